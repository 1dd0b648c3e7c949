import asyncio

from cog import BasePredictor, Input
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

trace.set_tracer_provider(TracerProvider())
tracer = trace.get_tracer("corpus")


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.calls = 0

    async def predict(self, text: str = Input(description="Text"), delay: float = Input(default=0.1, le=5)) -> str:
        with tracer.start_as_current_span("predict"):
            await asyncio.sleep(delay)
            self.calls += 1
            return f"{text.upper()} after {delay}s"
