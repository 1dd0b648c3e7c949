from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, n: int = Input(default=4, ge=1, le=100)) -> str:
        import torch

        x = torch.ones(n, n)
        return f"torch {torch.__version__} trace={int(x.trace())} cuda={torch.cuda.is_available()}"
