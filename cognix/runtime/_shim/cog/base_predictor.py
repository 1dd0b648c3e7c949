"""`cog.base_predictor` (cog 0.13 to 0.16): where BasePredictor was defined then."""

from cog.predictor import BasePredictor
from cog.types import Weights

__all__ = ["BasePredictor", "Weights"]
