"""Runner base classes."""

from __future__ import annotations

from typing import Any, Optional

from cog._scope import Scope, current_scope


class BaseRunner:
    """Implement `run()` (and optionally `setup()`, `healthcheck()`)."""

    def setup(self, weights: Optional[Any] = None) -> None:  # noqa: D401 - optional hook
        """Prepare the model; called once before the first prediction."""
        return None

    def record_metric(self, key: str, value: Any, mode: str = "replace") -> None:
        current_scope().record_metric(key, value, mode)

    @property
    def scope(self) -> Scope:
        return current_scope()


class BasePredictor(BaseRunner):
    """Deprecated alias of BaseRunner whose method is `predict()`."""
