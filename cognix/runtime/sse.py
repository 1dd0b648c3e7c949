"""Server-sent events for one prediction: a replay buffer plus live subscribers (Cog's event names)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

KEEPALIVE_SECONDS = 15.0
MAX_SUBSCRIBERS = 1024
# events a slow subscriber may fall behind before its stream ends with "lagged": more than one read of the worker's
# event pipe delivers at once (64 KiB of ~40-byte events), so a fast stream never lags a client that keeps up
SUBSCRIBER_BACKLOG = 16384
BATCH = 4096  # queued events sent to a subscriber in one write


def format_event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'), sort_keys=True)}\n\n".encode()


class _Subscriber:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=SUBSCRIBER_BACKLOG)
        self.skipped = 0  # events dropped because the queue was full; the stream then ends

    def offer(self, event: bytes | None) -> None:
        if self.skipped:
            self.skipped += 1
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.skipped = 1


class EventStream:
    """Keeps the last `capacity` events; `completed` (or `error`) always ends a stream."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.history: deque[bytes] = deque(maxlen=capacity or None)
        self.dropped = 0
        self.subscribers: list[_Subscriber] = []
        self.closed = False

    def publish(self, name: str, data: Any) -> None:
        event = format_event(name, data)
        if self.capacity:
            if len(self.history) == self.capacity:
                self.dropped += 1
            self.history.append(event)
        for subscriber in self.subscribers:
            subscriber.offer(event)
        if name in ("completed", "error"):
            self.closed = True
            for subscriber in self.subscribers:
                subscriber.offer(None)

    def can_subscribe(self) -> bool:
        return len(self.subscribers) < MAX_SUBSCRIBERS

    async def subscribe(self, replay: bool) -> AsyncIterator[bytes]:
        """Yield replayed then live events until the stream ends; keep-alive comments while idle."""
        subscriber = _Subscriber()
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
        self.subscribers.append(subscriber)
        try:
            while True:
                if subscriber.skipped:  # this client fell too far behind: say so and end, as Cog does
                    yield format_event(
                        "error", {"error": "SSE stream lagged; events were dropped", "skipped": subscriber.skipped}
                    )
                    return
                try:
                    event = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_SECONDS)
                except asyncio.TimeoutError:  # noqa: UP041 - not the builtin TimeoutError before Python 3.11
                    yield b": keep-alive\n\n"
                    continue
                if event is None:
                    return
                batch, ended = _drain(subscriber.queue, event)
                yield batch
                if ended:
                    return
        finally:
            self.subscribers.remove(subscriber)


def _drain(queue: asyncio.Queue, first: bytes) -> tuple[bytes, bool]:
    """`first` and what else is queued already (up to BATCH events), as one write; whether the stream ended."""
    events = [first]
    while len(events) < BATCH:
        try:
            event = queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        if event is None:
            return b"".join(events), True
        events.append(event)
    return (first if len(events) == 1 else b"".join(events)), False
