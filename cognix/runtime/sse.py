"""Server-sent events for one prediction: a replay buffer plus live subscribers (Cog's event names)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

KEEPALIVE_SECONDS = 15.0
MAX_SUBSCRIBERS = 1024


def format_event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'), sort_keys=True)}\n\n".encode()


class EventStream:
    """Keeps the last `capacity` events; `completed` (or `error`) always ends a stream."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.history: deque[bytes] = deque(maxlen=capacity or None)
        self.dropped = 0
        self.subscribers: list[asyncio.Queue[bytes | None]] = []
        self.closed = False

    def publish(self, name: str, data: Any) -> None:
        event = format_event(name, data)
        if self.capacity:
            if len(self.history) == self.capacity:
                self.dropped += 1
            self.history.append(event)
        for queue in self.subscribers:
            queue.put_nowait(event)
        if name in ("completed", "error"):
            self.closed = True
            for queue in self.subscribers:
                queue.put_nowait(None)

    def can_subscribe(self) -> bool:
        return len(self.subscribers) < MAX_SUBSCRIBERS

    async def subscribe(self, replay: bool) -> AsyncIterator[bytes]:
        """Yield replayed then live events until the stream ends; keep-alive comments while idle."""
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        if replay:
            if self.dropped:
                yield format_event(
                    "error",
                    {
                        "error": "SSE stream replay truncated; events were dropped",
                        "skipped": self.dropped,
                    },
                )
                return
            for event in list(self.history):
                yield event
        if self.closed:
            return
        self.subscribers.append(queue)
        try:
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except asyncio.TimeoutError:  # noqa: UP041 - not the builtin TimeoutError before Python 3.11
                    yield b": keep-alive\n\n"
                    continue
                if event is None:
                    return
                yield event
        finally:
            self.subscribers.remove(queue)
