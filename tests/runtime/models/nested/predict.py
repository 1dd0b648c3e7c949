"""Outputs pydantic-era Cog took: nested lists (embeddings), Optional[Path] fields left out, iterators of lists.

Written as a model for Python 3.8 writes it (typing's aliases), so it runs on every Python the runtime supports.
"""

from typing import Dict, Iterator, List, Optional

from cog import BaseModel, BasePredictor, Path


class Embeddings(BasePredictor):
    def predict(self, texts: List[str]) -> List[List[float]]:
        return [[float(len(t)), 0.5] for t in texts]


class Output(BaseModel):  # whisper's style: Optional fields the model may leave out
    transcription: str
    preview: Optional[Path]
    txt_file: Optional[Path]
    segments: List[Dict[str, float]] = []


class Transcribe(BasePredictor):
    def predict(self, with_file: bool = False) -> Output:
        if not with_file:
            return Output(transcription="hello")
        path = Path("/tmp/cognix-nested-out.txt")
        path.write_text("hi")
        return Output(transcription="hello", txt_file=path, segments=[{"start": 0.0}])


class Batches(BasePredictor):
    def predict(self, n: int = 2) -> Iterator[List[int]]:
        for i in range(n):
            yield [i, i + 1]


class Sparse(BasePredictor):
    def predict(self) -> List[Optional[str]]:
        return ["a", None]
