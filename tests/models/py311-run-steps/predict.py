from pathlib import Path as StdPath

from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.marker = StdPath("/opt/assets/marker.txt").read_text().strip()
        self.python = StdPath("/opt/assets/python.txt").read_text().split()

    def predict(self) -> str:
        return f"{self.marker}; python {'.'.join(self.python)}"
