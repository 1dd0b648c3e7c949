from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, n: int = Input(default=3, ge=1, le=10)) -> str:
        import torch

        return f"torch {torch.__version__} sum={int(torch.arange(n).sum())} cuda={torch.cuda.is_available()}"
