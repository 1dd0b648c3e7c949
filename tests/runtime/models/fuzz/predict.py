# ruff: noqa: B008 - Input() in defaults is how Cog models declare inputs
"""Schema-fuzzing model: every input kind with bounds, each fast to run whatever the value (no sleep input)."""

from typing import List, Optional

from cog import BasePredictor, Input, Path, Secret


class Predictor(BasePredictor):
    def predict(
        self,
        text: str = Input(description="Temperature in °C", default="hi", max_length=64),
        n: int = Input(default=1, ge=1, le=10),
        ratio: float = Input(default=0.5, ge=0.0, le=1.0),
        flag: bool = Input(default=False),
        color: str = Input(default="red", choices=["red", "green"]),
        size: int = Input(default=1, choices=[1, 2, 4]),
        tags: List[str] = Input(default=[]),
        note: Optional[str] = Input(default=None),
        token: Optional[Secret] = Input(default=None),
        image: Optional[Path] = Input(default=None),
    ) -> str:
        return f"{text[:8]}:{n}:{ratio}:{flag}:{color}:{size}:{len(tags)}:{note is None}:{token is None}:{image}"


def train(
    steps: int = Input(default=1, ge=1, le=5),
    prompt: str = Input(default="x", max_length=32),
    weights: Optional[Path] = Input(default=None),
) -> str:
    return f"{steps}:{prompt[:8]}:{weights}"
