"""Reports the torch build and whether CUDA works; no weights are loaded."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        import torch

        return f"torch {torch.__version__} cuda={torch.cuda.is_available()}"
