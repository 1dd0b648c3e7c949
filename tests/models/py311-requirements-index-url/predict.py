from cog import BasePredictor, Input
from tabulate import tabulate


class Predictor(BasePredictor):
    def predict(self, word: str = Input(description="A word")) -> str:
        return tabulate([[word, len(word)]], headers=["word", "length"], tablefmt="github")
