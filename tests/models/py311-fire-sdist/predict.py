import fire
from cog import BasePredictor, Input


def scale(x: int, factor: int = 2) -> int:
    return x * factor


class Predictor(BasePredictor):
    def predict(self, x: int = Input(description="A number"), factor: int = Input(default=3)) -> str:
        result = fire.Fire(scale, command=[str(x), "--factor", str(factor)])
        return f"fire {fire.__version__}: {result}"
