"""torch-demo: does CUDA work in this container? Runs a tiny matmul on the GPU when it does."""

import torch
from cog import BaseModel, BasePredictor, Input


class Output(BaseModel):
    cuda_available: bool
    device_count: int
    device_name: str
    torch_version: str
    torch_cuda: str
    matmul_sum: float


class Predictor(BasePredictor):
    def predict(self, size: int = Input(description="Side of the test matrix", default=64, ge=1, le=4096)) -> Output:
        available = torch.cuda.is_available()
        device = torch.device("cuda" if available else "cpu")
        ones = torch.ones((size, size), device=device)
        total = float((ones @ ones).sum().item())  # size**3 when the device computes correctly
        return Output(
            cuda_available=available,
            device_count=torch.cuda.device_count(),
            device_name=torch.cuda.get_device_name(0) if available else "",
            torch_version=torch.__version__,
            torch_cuda=torch.version.cuda or "",
            matmul_sum=total,
        )
