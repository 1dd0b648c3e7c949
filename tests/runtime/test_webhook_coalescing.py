"""A burst of events for one prediction: later events update the delivery that waits, instead of queueing one
request each; bodies stay in event order, cumulative, and `completed` is last."""

from __future__ import annotations

import asyncio
from typing import Any

from cognix.runtime.webhooks import WebhookDispatcher


class _Recorder:
    def __init__(self, delay: float) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.delay = delay

    async def post(self, url: str, body: dict[str, Any], headers: dict[str, str], *, terminal: bool) -> None:
        await asyncio.sleep(self.delay if not self.bodies else 0)  # the first answer is slow
        self.bodies.append(body)


def test_a_burst_of_10000_outputs_costs_a_few_requests_in_order() -> None:
    async def go() -> tuple[list[dict[str, Any]], int]:
        hub = WebhookDispatcher(token=None, throttle=0.0, queue_max=100, user_agent="t")
        recorder = _Recorder(0.05)
        hub.post = recorder.post  # type: ignore[method-assign]
        sender = hub.sender("http://127.0.0.1:9/hook", frozenset({"start", "output", "completed"}), {})
        chunks: list[str] = []
        made = 0

        def snapshot() -> dict[str, Any]:
            nonlocal made
            made += 1
            return {"status": "processing", "output": list(chunks)}

        sender.send("start", snapshot)
        await asyncio.sleep(0)  # the start webhook goes out (and is answered slowly)
        for i in range(10_000):
            chunks.append(f"t{i}")
            sender.send("output", snapshot)
        sender.complete({"status": "succeeded", "output": list(chunks)})
        await hub.drain(5)
        return recorder.bodies, made

    bodies, made = asyncio.run(go())
    lengths = [len(b["output"]) for b in bodies]
    assert lengths[0] == 0 and lengths == sorted(lengths) and lengths[-1] == 10_000
    assert [b["status"] for b in bodies][-1] == "succeeded" and len(bodies) <= 4, lengths
    assert made <= 3  # snapshots made: one per request that went out, not one per token


def test_events_spaced_out_each_get_their_webhook() -> None:
    async def go() -> list[dict[str, Any]]:
        hub = WebhookDispatcher(token=None, throttle=0.0, queue_max=100, user_agent="t")
        recorder = _Recorder(0)
        hub.post = recorder.post  # type: ignore[method-assign]
        sender = hub.sender("http://127.0.0.1:9/hook", frozenset({"output", "completed"}), {})
        for i in range(3):
            sender.send("output", lambda i=i: {"status": "processing", "output": list(range(i + 1))})
            await asyncio.sleep(0.01)
        sender.complete({"status": "succeeded", "output": [0, 1, 2]})
        await hub.drain(5)
        return recorder.bodies

    assert [len(b["output"]) for b in asyncio.run(go())] == [1, 2, 3, 3]
