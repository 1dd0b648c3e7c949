"""`cog.server.scope` (cog 0.13 to 0.16): the prediction scope, where current_scope() lived before cog 0.17."""

from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Any, Iterator

from cog._scope import Scope, current_scope, use_scope
from cog.types import ExperimentalFeatureWarning


def emit_metric(name: str, value: Any) -> None:
    """Record a metric on the running prediction (cog 0.13's form of current_scope().record_metric)."""
    current_scope().record_metric(name, value)


@contextmanager
def scope(sc: Scope) -> Iterator[None]:
    """Make `sc` the current scope inside the block."""
    with use_scope(sc):
        yield


@contextmanager
def evolve_scope(**changes: Any) -> Iterator[None]:
    """The current scope with some attributes replaced (e.g. context=...), current inside the block."""
    evolved = copy.copy(current_scope())
    for name, value in changes.items():
        setattr(evolved, name, value)
    with use_scope(evolved):
        yield


__all__ = ["ExperimentalFeatureWarning", "Scope", "current_scope", "emit_metric", "evolve_scope", "scope"]
