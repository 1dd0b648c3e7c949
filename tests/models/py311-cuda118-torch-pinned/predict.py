from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        import cv2
        import torch

        return f"torch {torch.__version__} cuda {torch.version.cuda} available={torch.cuda.is_available()} cv2 {cv2.__version__}"
