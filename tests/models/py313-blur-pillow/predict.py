import tempfile

from cog import BasePredictor, Input, Path
from PIL import Image, ImageFilter


class Predictor(BasePredictor):
    def predict(
        self,
        image: Path = Input(description="Image to blur"),
        radius: float = Input(description="Blur radius", default=2.0, ge=0),
    ) -> Path:
        with Image.open(str(image)) as im:
            out = Path(tempfile.mkdtemp()) / "blurred.png"
            im.convert("RGB").filter(ImageFilter.GaussianBlur(radius)).save(str(out))
        return out
