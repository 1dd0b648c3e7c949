from cog import BaseModel, Input, Path


class TrainingOutput(BaseModel):
    weights: Path


def train(prefix: str = Input(description="Text the trained model will prepend")) -> TrainingOutput:
    weights = Path("output.txt")  # relative: lands in the working directory, as the upstream example does
    weights.write_text(prefix)
    return TrainingOutput(weights=weights)
