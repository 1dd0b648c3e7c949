"""The `cog` SDK as provided by cognix's runtime: the public names of every Cog release, 0.8 to 0.23.1.

Behaviour follows the current release (0.23.1) where releases differ, and accepts what older releases accepted
(tests/runtime/test_sdk_inventory.py lists every module and name, per release).
"""

from __future__ import annotations

import mimetypes
import warnings
from typing import Any, Callable, Optional

from cog._cancel import CancelationException
from cog._opaque import Opaque
from cog._scope import current_scope
from cog._version import __version__
from cog.input import FieldInfo, Input
from cog.mimetypes_ext import install_mime_extensions
from cog.model import BaseModel
from cog.predictor import BasePredictor, BaseRunner
from cog.types import (
    AsyncConcatenateIterator,
    ConcatenateIterator,
    ExperimentalFeatureWarning,
    File,
    Path,
    Secret,
    URLFile,
    URLPath,
)

install_mime_extensions(mimetypes)  # as cog 0.10 to 0.16 did on import


def emit_metric(name: str, value: Any) -> None:
    """Deprecated: use `current_scope().record_metric(name, value)`."""
    warnings.warn("emit_metric is deprecated; use current_scope().record_metric()", DeprecationWarning, stacklevel=2)
    current_scope().record_metric(name, value)


def streaming(fn: Optional[Callable] = None) -> Any:
    """Mark the run method as streaming (SSE); `@streaming` or `@streaming()`."""

    def mark(f: Callable) -> Callable:
        f.__cog_streaming__ = True  # type: ignore[attr-defined]
        return f

    return mark(fn) if fn is not None else mark


def concurrent(fn: Optional[Callable] = None, *, max: int = 1) -> Any:  # noqa: A002 - cog's keyword
    """Allow up to `max` concurrent predictions (async run methods only when max > 1)."""
    if isinstance(max, bool) or not isinstance(max, int):
        raise TypeError("concurrent max must be an integer")
    if max < 1:
        raise ValueError("concurrent max must be at least 1")

    def mark(f: Callable) -> Callable:
        import inspect

        if max > 1 and not (inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f)):
            raise TypeError(f"@concurrent(max={max}) needs an async function; {f.__name__} is not async")
        f.__cog_concurrent_max__ = max  # type: ignore[attr-defined]
        return f

    return mark(fn) if fn is not None else mark


__all__ = [
    "__version__",
    "AsyncConcatenateIterator",
    "BaseModel",
    "BasePredictor",
    "BaseRunner",
    "CancelationException",
    "ConcatenateIterator",
    "ExperimentalFeatureWarning",
    "FieldInfo",
    "File",
    "Input",
    "Opaque",
    "Path",
    "Secret",
    "URLFile",
    "URLPath",
    "concurrent",
    "current_scope",
    "emit_metric",
    "streaming",
]
