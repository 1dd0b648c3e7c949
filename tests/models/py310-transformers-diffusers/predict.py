"""Imports the pipeline libraries and reports their versions; no weights are downloaded."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        import diffusers
        import torch
        import transformers

        return (f"diffusers {diffusers.__version__} transformers {transformers.__version__} "
                f"torch {torch.__version__} cuda={torch.cuda.is_available()}")
