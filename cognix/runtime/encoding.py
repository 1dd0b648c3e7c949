"""Output encoding: Python values from run() to JSON (files as data URLs or uploaded), and secret redaction."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import io
import mimetypes
import os
import re
import sys
import tempfile
import types
from pathlib import Path
from typing import Any, Callable, Iterable

from cognix.runtime.validation import raw_input_component

REDACTED = "**********"


def mime_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def data_url(path: Path) -> str:
    payload = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:{mime_type(path.name)};base64,{payload}"


def _is_secret(value: Any) -> bool:
    return type(value).__name__ == "Secret" and callable(getattr(value, "get_secret_value", None))


def _stream_output(value: io.IOBase, upload: Callable[[Path], str] | None) -> str:
    data = value.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    name = os.path.basename(str(getattr(value, "name", "") or "")) or "output"
    if upload is None:
        # BytesIO outputs have no meaningful name: Cog sends them as application/octet-stream
        mime = mime_type(name) if getattr(value, "name", None) else "application/octet-stream"
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    directory = tempfile.mkdtemp()
    path = Path(directory) / name
    try:
        path.write_bytes(data)
        return upload(path)
    finally:
        path.unlink(missing_ok=True)
        os.rmdir(directory)


_MKDTEMP_NAME = re.compile(r"tmp[a-z0-9_]{8}")


def remove_sent_outputs(paths: Iterable[Path], since: float) -> None:
    """Delete output files the prediction wrote in the temp directory, once their bytes are in the response
    (data URL) or uploaded: a long-running container's /tmp would otherwise fill its disk.

    Only files created during the prediction (ctime >= `since`) inside tempfile.gettempdir() go, so an asset
    the model keeps (in /src, or made by setup()) survives; their directory goes too when it is a mkdtemp()
    directory (tmpXXXXXXXX, directly in the temp directory) left empty."""
    tmp = os.path.realpath(tempfile.gettempdir())
    for path in set(paths):
        real = os.path.realpath(path)
        if os.path.commonpath([tmp, real]) != tmp or real == tmp:
            continue
        try:
            if not os.path.isfile(real) or os.stat(real).st_ctime < since:
                continue
            os.unlink(real)
            parent = os.path.dirname(real)
            if os.path.dirname(parent) == tmp and _MKDTEMP_NAME.fullmatch(os.path.basename(parent)):
                os.rmdir(parent)  # fails (kept) when anything else is in it
        except OSError:
            continue  # someone else's file, or already gone: nothing to clean


def encode_output(value: Any, *, upload: Callable[[Path], str] | None = None) -> Any:
    """A JSON-able value: files become data URLs (or `upload(path)`'s URL), containers keep their order."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if _is_secret(value):
        return REDACTED
    if isinstance(value, os.PathLike):
        path = Path(os.fspath(value))
        return upload(path) if upload is not None else data_url(path)
    if isinstance(value, io.IOBase):
        return _stream_output(value, upload)
    if isinstance(value, enum.Enum):
        return encode_output(value.value, upload=upload)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): encode_output(v, upload=upload) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, types.GeneratorType)):
        return [encode_output(v, upload=upload) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode_output(getattr(value, f.name), upload=upload) for f in dataclasses.fields(value)}
    fields = getattr(type(value), "model_fields", None)  # pydantic v2
    if isinstance(fields, dict):
        return {name: encode_output(getattr(value, name), upload=upload) for name in fields}
    fields = getattr(type(value), "__fields__", None)  # pydantic v1
    if isinstance(fields, dict) and callable(getattr(value, "dict", None)):
        return {name: encode_output(getattr(value, name), upload=upload) for name in fields}
    if type(value).__module__.split(".")[0] == "numpy" and callable(getattr(value, "tolist", None)):
        return encode_output(value.tolist(), upload=upload)
    if callable(getattr(value, "item", None)) and callable(getattr(value, "tolist", None)):
        return encode_output(value.tolist(), upload=upload)  # numpy-like scalars/arrays (torch, jax)
    coder = _coder_for(value)
    if coder is not None:
        return encode_output(coder.encode(value), upload=upload)
    raise TypeError(f"cannot encode output of type {type(value).__name__}")


def _coder_for(value: Any) -> Any:
    """A registered `cog.coder.Coder` for the value's type, if the model defined one."""
    module = sys.modules.get("cog.coder")
    coder = getattr(module, "Coder", None)
    factory = getattr(coder, "lookup", None) or getattr(coder, "factory", None)  # upstream 0.23 has lookup()
    if not callable(factory):
        return None
    try:
        return factory(type(value))
    except Exception:  # a broken custom coder must not hide the real type error
        return None


def secret_fields(schema: dict, *, training: bool = False) -> set[str]:
    """Names of inputs marked `x-cog-secret` (also lists of secrets) in the schema's Input component."""
    component = raw_input_component(schema, training=training) or {}
    names = set()
    for name, prop in (component.get("properties") or {}).items():
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        if prop.get("x-cog-secret") or items.get("x-cog-secret"):
            names.add(name)
    return names


def redact(value: Any, secret_fields: Iterable[str]) -> Any:
    """A copy of an input dict with secret fields (and any Secret object anywhere) shown as '**********'."""
    names = set(secret_fields)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in names and item is not None:
                out[key] = [REDACTED for _ in item] if isinstance(item, list) else REDACTED
            else:
                out[key] = redact(item, ())
        return out
    if isinstance(value, list):
        return [redact(item, ()) for item in value]
    if _is_secret(value):
        return REDACTED
    return value
