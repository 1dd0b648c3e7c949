"""Conformance model: list of file outputs (order must be kept, also with --upload-url)."""

import tempfile
from typing import List

from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def predict(self, count: int = Input(default=3)) -> List[Path]:
        root = Path(tempfile.mkdtemp())
        outs = []
        for i in range(count):
            p = root / f"thing{i}.txt"
            p.write_text(f"content {i}" * (1000 * (count - i)))
            outs.append(p)
        return outs
