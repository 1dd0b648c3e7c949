"""Resizes the input image and describes the result (Python 3.9 syntax only: no `X | Y` annotations)."""

from typing import Optional

from cog import BasePredictor, Input, Path
from PIL import Image


class Predictor(BasePredictor):
    def predict(
        self,
        image: Path = Input(description="An image"),
        size: Optional[int] = Input(description="Square edge of the result", default=8, ge=1, le=64),
    ) -> str:
        with Image.open(str(image)) as im:
            small = im.convert("RGB").resize((size, size), Image.NEAREST)
            return f"{im.width}x{im.height}->{small.width}x{small.height} {small.mode} {small.getpixel((0, 0))}"
