"""Conformance model: a user healthcheck that reports unhealthy."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        return "ok"

    def healthcheck(self) -> bool:
        return False
