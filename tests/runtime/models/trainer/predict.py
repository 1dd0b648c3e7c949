"""Conformance model: predict plus a train function returning a file."""

import tempfile

from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def predict(self, x: int = Input(default=1)) -> int:
        return x * 2


def train(steps: int = Input(default=3)) -> Path:
    print(f"training {steps}")
    out = Path(tempfile.mkdtemp()) / "weights.bin"
    out.write_bytes(b"w" * steps)
    return out
