import platform

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, text: str = Input(description="Text to echo", default="hi")) -> str:
        return f"{text} from python {'.'.join(platform.python_version_tuple()[:2])}"
