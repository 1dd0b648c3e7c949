import platform

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        import torch
        import torchaudio

        return (f"python {platform.python_version()} torch {torch.__version__} "
                f"torchaudio {torchaudio.__version__} cuda={torch.cuda.is_available()}")
