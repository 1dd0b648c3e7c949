"""`cog.json` (cog 0.8 to 0.16): outputs made encodable, then their files uploaded."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import io
import os
import pathlib
from types import GeneratorType
from typing import Any, Callable

from cog.types import Path as Path


def make_encodeable(obj: Any) -> Any:
    """A JSON-able copy of an output, files aside: models and dataclasses become dicts, sequences lists, enums their
    value, datetimes ISO strings, path-likes pathlib Paths, numpy values Python numbers and lists."""
    dump = getattr(obj, "model_dump", None)
    if callable(dump) and not isinstance(obj, type):  # pydantic 2
        return make_encodeable(dump(exclude_unset=True))
    if callable(getattr(obj, "dict", None)) and isinstance(getattr(type(obj), "__fields__", None), dict):
        return make_encodeable(obj.dict())  # pydantic 1
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: make_encodeable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {key: make_encodeable(value) for key, value in obj.items()}
    if isinstance(obj, (list, set, frozenset, GeneratorType, tuple)):
        return [make_encodeable(value) for value in obj]
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, datetime.datetime):
        return obj.isoformat()
    if isinstance(obj, os.PathLike):
        return pathlib.Path(obj)
    if type(obj).__module__.split(".")[0] == "numpy" and callable(getattr(obj, "tolist", None)):
        return obj.tolist()
    return obj


def upload_files(obj: Any, upload_file: Callable[[io.IOBase], str]) -> Any:
    """`obj` (from make_encodeable) with every path and file object replaced by upload_file(file)'s result."""
    if type(obj) is str:
        return obj
    if isinstance(obj, dict):
        return {key: upload_files(value, upload_file) for key, value in obj.items()}
    if isinstance(obj, list):
        return [upload_files(value, upload_file) for value in obj]
    if isinstance(obj, os.PathLike):
        with open(obj, "rb") as f:
            return upload_file(f)
    if isinstance(obj, io.IOBase):
        return upload_file(obj)
    return obj


def __getattr__(name: str) -> Any:
    if name == "PYDANTIC_V2":  # computed on first use (cog.types)
        from cog import types

        return types.PYDANTIC_V2
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["PYDANTIC_V2", "Path", "make_encodeable", "upload_files"]
