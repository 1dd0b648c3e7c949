"""Each prediction's cog scope (`cog.current_scope()`: its context and metrics), made current while it runs; metrics
recorded in it are also sent to the server as they happen (SSE `metric` events, in-flight snapshots)."""

from __future__ import annotations

from typing import Any, Callable

from cognix.runtime import protocol as wire


class Scopes:
    def __init__(self, emit: Callable[[wire.Event], None]) -> None:
        self.emit = emit
        self._recorder: Any = None

    def enter(self, pid: str, context: dict) -> Any:
        """Make a fresh cog scope current; a token for exit(), None when the model's cog has no scope hooks."""
        try:
            from cog._scope import MetricsRecorder, Scope  # type: ignore[import-not-found]
            from cog._scope import _current as scope_var
        except ImportError:  # upstream cog installed by the model: no scope hooks
            return None
        if self._recorder is None:
            self._recorder = _recorder_class(MetricsRecorder, self.emit)
        scope = Scope(context=context, metrics=self._recorder(pid))
        return scope, scope_var.set(scope), scope_var

    @staticmethod
    def exit(token: Any) -> dict:
        """Leave the scope; its metrics as a dict."""
        if token is None:
            return {}
        scope, var_token, scope_var = token
        try:
            scope_var.reset(var_token)
        except ValueError:  # reset from another context (generator finished elsewhere): harmless
            pass
        return scope.metrics.to_dict()


def _recorder_class(base: type, emit: Callable[[wire.Event], None]) -> type:
    class Recorder(base):  # type: ignore[valid-type,misc]
        def __init__(self, pid: str) -> None:
            super().__init__()
            self.pid = pid

        def record(self, key: str, value: Any, mode: str | None = "replace") -> None:
            super().record(key, value, mode)
            sent = "increment" if mode in ("incr", "increment") else (mode or "replace")
            emit(wire.Metric(self.pid, key, value, sent))

    return Recorder
