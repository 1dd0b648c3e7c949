"""`Input(...)`: metadata for a run() parameter, kept in a frozen FieldInfo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Union


class _Missing:
    """Sentinel: no default given (the input is required unless it is Optional)."""

    _instance: Optional["_Missing"] = None

    def __new__(cls) -> "_Missing":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


@dataclass(frozen=True)
class FieldInfo:
    default: Any = MISSING
    description: Optional[str] = None
    ge: Optional[Union[int, float]] = None
    le: Optional[Union[int, float]] = None
    min_length: Optional[int] = None
    max_length: Optional[int] = None
    regex: Optional[str] = None
    choices: Optional[List[Union[str, int]]] = None
    deprecated: Optional[bool] = None
    accept: Optional[str] = None


def Input(  # noqa: N802 - the SDK's public name
    default: Any = MISSING,
    *,
    default_factory: Any = None,
    description: Optional[str] = None,
    ge: Optional[Union[int, float]] = None,
    le: Optional[Union[int, float]] = None,
    min_length: Optional[int] = None,
    max_length: Optional[int] = None,
    regex: Optional[str] = None,
    choices: Optional[List[Union[str, int]]] = None,
    deprecated: Optional[bool] = None,
    accept: Optional[str] = None,
) -> Any:
    """Describe a run() parameter: default (omitted means required), description and constraints."""
    if default_factory is not None:
        raise TypeError("default_factory is not supported in Input(); use a plain default")
    return FieldInfo(
        default=default,
        description=description,
        ge=ge,
        le=le,
        min_length=min_length,
        max_length=max_length,
        regex=regex,
        choices=list(choices) if choices is not None else None,
        deprecated=deprecated,
        accept=accept,
    )
