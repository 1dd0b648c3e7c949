"""Hello: a couple of typed inputs, a str output, and a file output."""

import tempfile

from cog import BaseModel, BasePredictor, Input, Path


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
        card = Path(tempfile.mkdtemp()) / "card.txt"
        card.write_text(f"+{'-' * (len(greeting) + 2)}+\n| {greeting} |\n+{'-' * (len(greeting) + 2)}+\n")
        return Output(greeting=greeting, card=card)
