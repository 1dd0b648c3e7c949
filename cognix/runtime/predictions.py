"""Server-side state of one in-flight prediction (or training): a small state machine whose snapshots are what
responses, webhooks and SSE report.

starting -> processing -> succeeded | failed | canceled; a terminal state is final: events that arrive after it
(a late log line, a second Done) change nothing. Every change goes through a method, never a field assignment.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

_counter = itertools.count()


class Status(str, enum.Enum):
    """Cog's prediction statuses; a str, so JSON carries the value as it is."""

    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL

    def __str__(self) -> str:
        return self.value


_TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED})


def new_id() -> str:
    """`pred_<hex nanosecond timestamp>`, made unique within this process."""
    return f"pred_{time.time_ns() + next(_counter):x}"


@dataclass
class Prediction:
    id: str
    kind: str  # "predict" or "train"
    input: dict[str, Any]  # already redacted: never holds Secret values
    webhook: Any = None  # webhooks.WebhookSender when the request named a webhook
    events_filter: frozenset[str] = frozenset({"start", "output", "logs", "completed"})
    trace_headers: dict[str, str] = field(default_factory=dict)
    status: Status = Status.STARTING
    logs: list[str] = field(default_factory=list)
    chunks: list[Any] = field(default_factory=list)
    output: Any = None
    has_output: bool = False
    streamed: bool = False
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    sse: Any = None  # sse.EventStream when streaming

    # --- transitions ------------------------------------------------------------------------------------------
    def start(self) -> bool:
        """starting -> processing; False (no change) from any other state."""
        if self.status is not Status.STARTING:
            return False
        self.status = Status.PROCESSING
        return True

    def add_log(self, text: str) -> bool:
        if self.status.terminal:
            return False
        self.logs.append(text)
        return True

    def add_chunk(self, chunk: Any) -> bool:
        """One streamed output chunk; its index is len(chunks) - 1."""
        if self.status.terminal:
            return False
        self.streamed = True
        self.chunks.append(chunk)
        return True

    def record_metric(self, name: str, value: Any, mode: str) -> bool:
        """Mirror a metric the worker recorded into the in-flight snapshot (dots make nested objects)."""
        if self.status.terminal:
            return False
        *parents, leaf = name.split(".")
        node = self.metrics
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if mode == "increment":
            node[leaf] = node.get(leaf, 0) + value
        elif mode == "append":
            old = node.get(leaf)
            node[leaf] = (old if isinstance(old, list) else ([] if old is None else [old])) + [value]
        elif value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
        return True

    def finish(self, status: Status | str, *, error: str | None = None, metrics: dict[str, Any] | None = None,
               output: Any = None, has_output: bool = False, streamed: bool = False) -> bool:
        """Enter a terminal state (an output counts only for succeeded); False when already terminal."""
        status = Status(status)
        if self.status.terminal or not status.terminal:
            return False
        self.status = status
        self.error = error
        self.metrics = metrics or {}
        if has_output and status is Status.SUCCEEDED:
            self.output, self.has_output = output, True
        self.streamed = self.streamed or streamed
        if not self.done.done():
            self.done.set_result(None)
        return True

    # --- reports ----------------------------------------------------------------------------------------------
    def progress_snapshot(self) -> dict[str, Any]:
        """What a non-terminal webhook carries: the snapshot as `processing` (it may be made after the end, when a
        waiting delivery goes out; `completed` follows it with the terminal state)."""
        body = self.snapshot()
        if self.status.terminal:
            body["status"] = Status.PROCESSING.value
            body.pop("error", None)
            body.pop("output", None)
            if self.chunks:
                body["output"] = list(self.chunks)
        return body

    def snapshot(self, *, with_input: bool = False) -> dict[str, Any]:
        """The prediction object in Cog's 0.23 shape (keys sorted by the encoder)."""
        body: dict[str, Any] = {"id": self.id, "status": self.status.value, "logs": "".join(self.logs),
                                "metrics": dict(self.metrics)}
        if self.status.terminal:
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
