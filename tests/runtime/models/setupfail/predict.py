"""Conformance model: setup fails."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        print("about to fail")
        raise RuntimeError("setup exploded")

    def predict(self) -> str:
        return "never"
