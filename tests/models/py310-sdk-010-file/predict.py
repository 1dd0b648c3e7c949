import io

from cog import BasePredictor, File, Input


class Predictor(BasePredictor):
    def predict(self, document: File = Input(description="A text file")) -> File:
        text = document.read().decode()
        out = io.StringIO(f"{text.upper()} ({len(text)} characters)")
        out.name = "result.txt"  # Cog names the data URL's type from the file object's name (else octet-stream)
        return out
