import sys

from cog import BasePredictor, Input
from slugify import slugify


class Predictor(BasePredictor):
    def predict(self, title: str = Input(description="A title to slugify")) -> str:
        return f"{slugify(title)} ({sys.version_info.major}.{sys.version_info.minor})"
