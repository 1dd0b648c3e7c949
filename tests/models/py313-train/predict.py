from typing import Optional

from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def setup(self, weights: Optional[Path] = None) -> None:
        self.prefix = Path(weights).read_text() if weights else "hello"

    def predict(self, text: str = Input(description="Text to prefix")) -> str:
        return f"{self.prefix} {text}"
