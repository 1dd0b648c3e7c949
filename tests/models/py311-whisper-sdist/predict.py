"""Imports whisper and reports versions; loading a checkpoint would download weights, so none is loaded."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        import torch
        import whisper

        return f"whisper {whisper.__version__} models={len(whisper.available_models())} cuda={torch.cuda.is_available()}"
