import sys

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, num: int = Input(description="A number to double")) -> str:
        return f"{num * 2} on {sys.version_info[0]}.{sys.version_info[1]}"
