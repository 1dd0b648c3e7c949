"""The runtime's one place for Python-version differences: it runs on every interpreter Cog accepts, 3.8 to 3.14.

Everything else in cognix/runtime is written for 3.8 (annotations stay unevaluated through
`from __future__ import annotations`; tests/runtime/test_python_compat.py checks both). What differs by version:

- `typing.Annotated`, `get_type_hints(include_extras=True)` and an Annotated-aware get_origin/get_args are 3.9+;
  on 3.8 they come from typing_extensions when it is installed (a model can only write Annotated then anyway);
- `typing.is_typeddict` is 3.10+ (before, the same check on typing's TypedDict metaclass);
- `types.UnionType` (`X | Y`) is 3.10+ (3.14 makes it an alias of typing.Union);
- 3.14 evaluates annotations lazily (PEP 649): a class's own annotation names come from annotationlib there;
- before 3.11, get_type_hints turns a parameter annotated `T` with a `None` default into `Optional[T]`: the
  hints here never do, so a runner's schema is the same on every version.
"""

from __future__ import annotations

import sys
import types
import typing
from typing import Any, Callable, Dict, Tuple

if sys.version_info >= (3, 9):
    from typing import Annotated, get_args, get_origin  # novm: 3.9+ here

    def _hints(obj: Any, globalns: Dict[str, Any] | None = None) -> Dict[str, Any]:
        return typing.get_type_hints(obj, globalns=globalns, include_extras=True)  # novm: 3.9+ here

else:  # 3.8
    try:
        from typing_extensions import Annotated, get_args, get_origin
        from typing_extensions import get_type_hints as _extensions_hints

        def _hints(obj: Any, globalns: Dict[str, Any] | None = None) -> Dict[str, Any]:
            return _extensions_hints(obj, globalns=globalns, include_extras=True)

    except ImportError:  # no typing_extensions: nothing can be Annotated

        class Annotated:  # type: ignore[no-redef]
            """Stand-in that no annotation's origin is."""

        from typing import get_args, get_origin  # type: ignore[assignment]

        def _hints(obj: Any, globalns: Dict[str, Any] | None = None) -> Dict[str, Any]:
            return typing.get_type_hints(obj, globalns=globalns)


#: the origins of a union annotation: typing.Union, and `X | Y`'s types.UnionType on 3.10+
UNION_ORIGINS: Tuple[Any, ...] = (typing.Union, types.UnionType) if sys.version_info >= (3, 10) else (typing.Union,)


def get_type_hints(obj: Any) -> Dict[str, Any]:
    """`typing.get_type_hints(obj, include_extras=True)` on every version (for classes and modules)."""
    return _hints(obj)


def function_type_hints(func: Callable) -> Dict[str, Any]:
    """A function's resolved annotations, Annotated kept, as 3.11+ gives them: no implicit Optional for a
    parameter whose default is None (which earlier versions add)."""
    if sys.version_info >= (3, 11) or not isinstance(func, types.FunctionType):
        return _hints(func)
    # get_type_hints reads defaults from __code__; an object with the annotations alone has none to add Optional for
    annotations = types.SimpleNamespace(__annotations__=func.__annotations__)
    return _hints(annotations, func.__globals__)


def own_annotation_names(cls: type) -> list:
    """The names a class body annotates itself (not its bases'), without evaluating the annotations: on 3.14 they
    are evaluated lazily (PEP 649), and a forward reference must not fail here."""
    if sys.version_info >= (3, 14):
        import annotationlib  # novm: 3.14+ here

        return list(annotationlib.get_annotations(cls, format=annotationlib.Format.FORWARDREF))
    return list(vars(cls).get("__annotations__") or {})


if sys.version_info >= (3, 10):
    is_typeddict = typing.is_typeddict  # novm: 3.10+ here
else:

    def is_typeddict(tp: Any) -> bool:
        """typing.is_typeddict of 3.10: an instance of typing's TypedDict metaclass."""
        return isinstance(tp, typing._TypedDictMeta)  # type: ignore[attr-defined]


__all__ = [
    "Annotated",
    "UNION_ORIGINS",
    "function_type_hints",
    "get_args",
    "get_origin",
    "get_type_hints",
    "is_typeddict",
    "own_annotation_names",
]
