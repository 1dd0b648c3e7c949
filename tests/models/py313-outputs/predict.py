import tempfile

from cog import BaseModel, BasePredictor, Input, Path


class Output(BaseModel):
    files: list[Path]
    count: int
    sizes: dict[str, int]


class Predictor(BasePredictor):
    def predict(self, word: str = Input(description="A word"), n: int = Input(default=2, ge=1, le=5)) -> Output:
        folder = Path(tempfile.mkdtemp())
        files = []
        for i in range(n):
            path = folder / f"part{i}.txt"
            path.write_text(f"{word} #{i}\n")
            files.append(path)
        return Output(files=files, count=n, sizes={p.name: p.stat().st_size for p in files})
