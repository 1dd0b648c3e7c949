"""Server-side state of one in-flight prediction (or training): what snapshots, webhooks and SSE report."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

TERMINAL = frozenset({"succeeded", "failed", "canceled"})
_counter = itertools.count()


def new_id() -> str:
    """`pred_<hex nanosecond timestamp>`, made unique within this process."""
    return f"pred_{time.time_ns() + next(_counter):x}"


@dataclass
class Prediction:
    id: str
    kind: str  # "predict" or "train"
    input: dict[str, Any]  # already redacted: never holds Secret values
    webhook: str | None = None
    events_filter: frozenset[str] = frozenset({"start", "output", "logs", "completed"})
    trace_headers: dict[str, str] = field(default_factory=dict)
    status: str = "starting"
    logs: list[str] = field(default_factory=list)
    chunks: list[Any] = field(default_factory=list)
    output: Any = None
    has_output: bool = False
    streamed: bool = False
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    done: asyncio.Future = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    sse: Any = None  # sse.EventStream when streaming

    def snapshot(self, *, with_input: bool = False) -> dict[str, Any]:
        """The prediction object in Cog's 0.23 shape (keys sorted by the encoder)."""
        body: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "logs": "".join(self.logs),
        }
        body["metrics"] = dict(self.metrics)
        if self.status in TERMINAL:
            if self.has_output:
                body["output"] = self.output
            elif self.streamed or self.chunks:
                body["output"] = list(self.chunks)
        elif self.chunks:
            body["output"] = list(self.chunks)
        if self.error is not None:
            body["error"] = self.error
        if with_input:
            body["input"] = self.input
        return body
