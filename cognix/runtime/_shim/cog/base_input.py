"""`cog.base_input` (cog 0.13 to 0.16): the base of the server's input models; here a plain class with cleanup()."""

from __future__ import annotations

import pathlib
from typing import Any, Iterator, Tuple

from cog.types import URLPath


class BaseInput:
    """Holds one prediction's inputs as attributes; cleanup() removes the files downloaded for them."""

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    def __iter__(self) -> Iterator[Tuple[str, Any]]:  # pydantic models iterate as (name, value) pairs
        return iter(list(vars(self).items()))

    def cleanup(self) -> None:
        """Remove temporary files created for the inputs (URLPath and Path values)."""
        for _, value in self:
            if isinstance(value, pathlib.Path):
                try:
                    value.unlink()
                except (FileNotFoundError, IsADirectoryError, PermissionError):
                    pass


def __getattr__(name: str) -> Any:
    if name == "PYDANTIC_V2":  # computed on first use (cog.types)
        from cog import types

        return types.PYDANTIC_V2
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BaseInput", "PYDANTIC_V2", "URLPath"]
