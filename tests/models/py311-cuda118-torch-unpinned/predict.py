from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        import torch

        return f"torch {torch.__version__} built for cuda {torch.version.cuda} available={torch.cuda.is_available()}"
