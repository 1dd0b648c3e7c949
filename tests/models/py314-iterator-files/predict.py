import tempfile
from collections.abc import Iterator

from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def predict(self, word: str = Input(description="A word"), n: int = Input(default=3, ge=1, le=10)) -> Iterator[Path]:
        folder = Path(tempfile.mkdtemp())
        for i in range(n):
            path = folder / f"{word}-{i}.txt"
            path.write_text(f"{i}: {word * (i + 1)}\n")
            yield path
