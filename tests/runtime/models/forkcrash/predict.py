"""Conformance model: predict forks a long-lived child (which inherits the worker's pipes), then the worker dies."""

import os
import time

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        if os.fork() == 0:  # like a DataLoader worker: holds every inherited fd while it lives
            time.sleep(20)
            os._exit(0)
        os._exit(7)
