"""The wire between the HTTP server and its worker process: one frozen dataclass per message, and the only code that
knows how they are written (JSON lines, `{"t": TAG, ...fields}`).

The server writes commands (Predict and Shutdown on the control pipe, Cancel and HealthCheck on the side pipe, which
a thread in the worker reads while a sync prediction blocks its loop); the worker writes events on the event pipe.
Runs in the model's interpreter too (Python 3.8 and newer): no slots, no match, no `X | Y` at run time.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Type, Union


# --- commands (server -> worker) ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Predict:
    id: str
    kind: str = "predict"  # "predict" | "train": which runner
    input: Dict[str, Any] = field(default_factory=dict)
    context: Dict[str, str] = field(default_factory=dict)
    start: bool = True  # send Started (False: the server already said the prediction is processing)


@dataclass(frozen=True)
class Cancel:
    id: str


@dataclass(frozen=True)
class HealthCheck:
    seq: int


@dataclass(frozen=True)
class Shutdown:
    pass


# --- events (worker -> server) -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SetupLog:
    data: str


@dataclass(frozen=True)
class Schema:
    schema: Optional[Dict[str, Any]]


@dataclass(frozen=True)
class Ready:
    healthcheck: bool  # the model defines healthcheck(): only then do health checks reach the worker
    kinds: List[str]


@dataclass(frozen=True)
class SetupFailed:
    error: str


@dataclass(frozen=True)
class Started:
    id: str


@dataclass(frozen=True)
class Log:
    id: str
    data: str
    source: str  # "stdout" | "stderr"


@dataclass(frozen=True)
class Output:
    id: str
    chunk: Any  # one encoded item of an iterator's output


@dataclass(frozen=True)
class Metric:
    id: str
    name: str
    value: Any
    mode: str  # "replace" | "increment" | "append"


@dataclass(frozen=True)
class Done:
    id: str
    status: str  # "succeeded" | "failed" | "canceled"
    metrics: Dict[str, Any] = field(default_factory=dict)
    streamed: bool = False  # the output went out as Output chunks
    has_output: bool = False  # a returned (not streamed) output, which may be None
    output: Any = None
    error: Optional[str] = None


@dataclass(frozen=True)
class Health:
    seq: int
    ok: bool
    error: Optional[str] = None


Command = Union[Predict, Cancel, HealthCheck, Shutdown]
Event = Union[SetupLog, Schema, Ready, SetupFailed, Started, Log, Output, Metric, Done, Health]
Message = Union[Command, Event]

_TAGS: Dict[Type[Any], str] = {
    Predict: "predict", Cancel: "cancel", HealthCheck: "healthcheck", Shutdown: "shutdown",
    SetupLog: "setup_log", Schema: "schema", Ready: "ready", SetupFailed: "setup_failed", Started: "start",
    Log: "log", Output: "output", Metric: "metric", Done: "done", Health: "health",
}
_TYPES: Dict[str, Type[Any]] = {tag: kind for kind, tag in _TAGS.items()}
CONTROL = (Predict, Shutdown)  # the commands for the control pipe; the others go on the side pipe


class ProtocolError(ValueError):
    """A line that is not a message of this protocol (a bug, or a worker of another cognix version)."""


def encode(message: Message) -> bytes:
    """One JSON line. Values the JSON encoder doesn't know are written as their str() (as outputs are)."""
    fields = {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}
    if isinstance(message, Done):
        if not fields.pop("has_output"):
            del fields["output"]
        if fields["error"] is None:
            del fields["error"]
    elif isinstance(message, Health) and fields["error"] is None:
        del fields["error"]
    fields["t"] = _TAGS[type(message)]
    return json.dumps(fields, separators=(",", ":"), default=str).encode() + b"\n"


def decode(line: bytes) -> Message:
    try:
        data = json.loads(line)
        kind = _TYPES[data.pop("t")]
        if kind is Done:
            data["has_output"] = "output" in data
        return kind(**data)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ProtocolError(f"not a worker message: {bytes(line[:200])!r} ({err})") from None


def lines(pending: bytearray) -> List[bytes]:
    """The complete lines at the start of `pending` (removed from it); a partial last line stays."""
    end = pending.rfind(b"\n")
    if end < 0:
        return []
    complete = bytes(pending[:end])
    del pending[: end + 1]
    return complete.split(b"\n")
