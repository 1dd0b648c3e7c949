"""Builds an untrained ResNet-18 (no weight download) and runs one tiny forward pass."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        import torch
        import torchvision

        self.torch = torch
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model = torchvision.models.resnet18(weights=None).eval().to(self.device)

    def predict(self) -> str:
        with self.torch.no_grad():
            out = self.model(self.torch.zeros(1, 3, 64, 64, device=self.device))
        return f"torch {self.torch.__version__} device={self.device} logits={tuple(out.shape)}"
