"""Hello: a couple of typed inputs, a str output, and a file output."""

from cog import BaseModel, BasePredictor, Input, Path
from PIL import Image, ImageDraw


class Output(BaseModel):
    greeting: str
    card: Path


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.punctuation = "!"

    def predict(
        self,
        name: str = Input(description="Who to greet", default="world"),
        repeat: int = Input(description="How many times", default=1, ge=1, le=10),
    ) -> Output:
        greeting = " ".join([f"hello {name}{self.punctuation}"] * repeat)
        card = Image.new("RGB", (320, 40), "white")
        ImageDraw.Draw(card).text((8, 12), greeting[:48], fill="black")
        out = Path("/tmp/card.png")
        card.save(out)
        return Output(greeting=greeting, card=out)
