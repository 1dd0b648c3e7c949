"""Trains a tiny tokenizer on a few sentences (no download) and encodes the input with it."""

import os
import tempfile

import sentencepiece as spm
from cog import BasePredictor, Input

CORPUS = "the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n" * 20


class Predictor(BasePredictor):
    def setup(self) -> None:
        folder = tempfile.mkdtemp()
        with open(os.path.join(folder, "corpus.txt"), "w") as f:
            f.write(CORPUS)
        spm.SentencePieceTrainer.train(input=os.path.join(folder, "corpus.txt"),
                                       model_prefix=os.path.join(folder, "tok"), vocab_size=20,
                                       minloglevel=2)
        self.tok = spm.SentencePieceProcessor(model_file=os.path.join(folder, "tok.model"))

    def predict(self, text: str = Input(description="Text to tokenize", default="the cat")) -> str:
        pieces = self.tok.encode(text, out_type=str)
        return f"sentencepiece {spm.__version__}: {len(pieces)} pieces, decodes back={self.tok.decode(pieces) == text}"
