"""Imports whisper and torch and reports their versions; no weights are downloaded."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        import torch
        import whisper

        return f"whisper {whisper.__version__} torch {torch.__version__} cuda={torch.cuda.is_available()}"
