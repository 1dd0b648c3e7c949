"""Reports the torch build the image carries; no weights are loaded."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        import torch
        import torchvision

        self.versions = f"torch {torch.__version__} torchvision {torchvision.__version__}"
        self.cuda = torch.cuda.is_available()

    def predict(self) -> str:
        return f"{self.versions} cuda={self.cuda}"
