"""Conformance model: predict kills the worker, and setup fails once that happened (so a restart can't help)."""

import os
from pathlib import Path

from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        if Path(os.environ["CRASH_MARKER"]).exists():
            raise RuntimeError("cannot start again")

    def predict(self) -> str:
        Path(os.environ["CRASH_MARKER"]).write_text("crashed")
        os._exit(9)
