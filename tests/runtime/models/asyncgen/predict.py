"""Conformance model: async generator with @streaming, for SSE, concurrency and async cancel."""

import asyncio

from cog import AsyncConcatenateIterator, BasePredictor, Input, current_scope, streaming


class Predictor(BasePredictor):
    async def setup(self) -> None:
        print("async setup")

    @streaming
    async def predict(
        self, n: int = Input(default=3), delay: float = Input(default=0.0)
    ) -> AsyncConcatenateIterator[str]:
        for i in range(n):
            print(f"step {i}")
            current_scope().record_metric("tokens", 1, "incr")
            if delay:
                await asyncio.sleep(delay)
            yield f"chunk{i} "
