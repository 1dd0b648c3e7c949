from cog import BasePredictor, ConcatenateIterator, Input


class Predictor(BasePredictor):
    def predict(self, text: str = Input(description="Text to stream back")) -> ConcatenateIterator[str]:
        for word in ("streaming", " ", "back", ": "):
            yield word
        yield text
