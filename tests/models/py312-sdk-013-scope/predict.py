import warnings
from typing import Optional

from cog import BasePredictor, ExperimentalFeatureWarning, Input, Secret, current_scope
from cog.types import Weights

warnings.filterwarnings("ignore", category=ExperimentalFeatureWarning)


class Predictor(BasePredictor):
    def setup(self, weights: Optional[Weights] = None) -> None:
        self.prefix = "weights" if weights else "no weights"

    def predict(self, prompt: str = Input(description="A prompt"),
                token: Secret = Input(description="An API token")) -> str:
        current_scope().record_metric("prompt_length", len(prompt))
        return f"{self.prefix}: {prompt} (token of {len(token.get_secret_value())} characters)"
