"""setup() fills ./hub and ./diffusers-cache (relative to /src); predict writes output.txt beside predict.py."""

import os
from pathlib import Path

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def setup(self) -> None:
        hub = Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints"
        hub.mkdir(parents=True, exist_ok=True)
        (hub / "weights.bin").write_bytes(b"\0" * 16)
        Path("diffusers-cache").mkdir(exist_ok=True)
        (Path.home() / ".cache" / "huggingface").mkdir(parents=True, exist_ok=True)

    def predict(self, text: str = Input(default="hi")) -> str:
        Path("output.txt").write_text(text)
        return f"{Path('output.txt').read_text()} from {os.getcwd()} as uid {os.getuid()}"
