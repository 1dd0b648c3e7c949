"""Per-prediction scope: metrics recorder and request context, reached through `current_scope()`."""

from __future__ import annotations

import contextvars
import re
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional

_SEGMENT = re.compile(r"^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$")
_MODES = ("replace", "incr", "append")


def _check_key(key: str) -> None:
    segments = key.split(".")
    if not key or len(key) > 128 or len(segments) > 4:
        raise ValueError(f"invalid metric key {key!r}: at most 4 dot-separated segments and 128 characters")
    if key == "predict_time" or key.startswith("cog."):
        raise ValueError(f"metric key {key!r} is reserved")
    for segment in segments:
        if not _SEGMENT.match(segment) or "__" in segment:
            raise ValueError(f"invalid metric key {key!r}: segment {segment!r} must be letters, digits, underscores")


class MetricsRecorder:
    """Records metrics for one prediction; `mode` is replace, incr (numeric add) or append (array)."""

    def __init__(self) -> None:
        self._values: Dict[str, Any] = {}

    def record(self, key: str, value: Any, mode: Optional[str] = "replace") -> None:
        mode = mode or "replace"
        if mode == "increment":
            mode = "incr"
        if mode not in _MODES:
            raise ValueError(f"invalid metric mode {mode!r}; use one of {', '.join(_MODES)}")
        _check_key(key)
        if mode == "replace":
            if value is None:
                self._values.pop(key, None)
                return
            old = self._values.get(key)
            if old is not None and type(old) is not type(value):
                raise TypeError(f"metric {key!r} holds a {type(old).__name__}; delete it before changing its type")
            self._values[key] = value
        elif mode == "incr":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"metric {key!r}: incr needs a number")
            self._values[key] = self._values.get(key, 0) + value
        else:
            old = self._values.get(key)
            if old is None:
                self._values[key] = [value]
            elif isinstance(old, list):
                old.append(value)
            else:
                self._values[key] = [old, value]

    def delete(self, key: str) -> None:
        self._values.pop(key, None)

    def __setitem__(self, key: str, value: Any) -> None:
        self.record(key, value)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __delitem__(self, key: str) -> None:
        self.delete(key)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def to_dict(self) -> Dict[str, Any]:
        """Metrics as nested objects: `timing.inference` becomes {"timing": {"inference": ...}}."""
        out: Dict[str, Any] = {}
        for key, value in self._values.items():
            node = out
            *parents, leaf = key.split(".")
            for part in parents:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
            node[leaf] = value
        return out


class Scope:
    """What run() sees of its prediction: metrics and the request's `context`."""

    def __init__(self, context: Optional[Dict[str, str]] = None, metrics: Optional[MetricsRecorder] = None) -> None:
        self.context: Dict[str, str] = dict(context or {})
        self.metrics = metrics if metrics is not None else MetricsRecorder()

    def record_metric(self, key: str, value: Any, mode: Optional[str] = None) -> None:
        self.metrics.record(key, value, mode or "replace")


class _NoopRecorder(MetricsRecorder):
    def record(self, key: str, value: Any, mode: Optional[str] = "replace") -> None:
        return None


_NOOP = Scope(metrics=_NoopRecorder())
_current: contextvars.ContextVar[Scope] = contextvars.ContextVar("cog_scope", default=_NOOP)


def current_scope() -> Scope:
    """The running prediction's scope, or a no-op scope outside predictions (never None)."""
    return _current.get()


@contextmanager
def use_scope(scope: Scope) -> Iterator[Scope]:
    """Make `scope` current for the duration of a prediction (the runtime's worker calls this)."""
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
