import sys

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, num: int = Input(description="A number")) -> str:
        match num % 2:  # 3.10 syntax: proves the interpreter is 3.10, not 3.1
            case 0:
                kind = "even"
            case _:
                kind = "odd"
        return f"{num} is {kind} on {sys.version_info.major}.{sys.version_info.minor}"
