import asyncio

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    async def predict(self, text: str = Input(description="Text"), delay: float = Input(default=0.1, ge=0, le=5)) -> str:
        await asyncio.sleep(delay)
        return text[::-1]
