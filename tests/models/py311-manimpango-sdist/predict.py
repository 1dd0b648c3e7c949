import manimpango
from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        return f"manimpango {manimpango.__version__} pango {manimpango.pango_version()}"
