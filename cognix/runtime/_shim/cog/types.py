"""Input/output types of the Cog SDK: Path, File, Secret, URL helpers, iterator markers.

Every name `cog.types` had in a Cog release is here (tests/runtime/test_sdk_inventory.py lists them): besides
0.23's, `Input`, `Weights`, `ExperimentalFeatureWarning`, the cog.yaml TypedDicts and `PYDANTIC_V2` (cog <= 0.16),
and 0.10's `URLTempFile`, `DataURLTempFilePath`, `get_filename_from_url`.
"""

from __future__ import annotations

import io
import mimetypes
import os
import pathlib
import sys
import urllib.parse
from dataclasses import dataclass
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, TypedDict, TypeVar, Union

from cog._pydantic import PydanticType
from cog.input import Input
from cognix.runtime.filenames import FILENAME_ILLEGAL_CHARS, FILENAME_MAX_LENGTH, derived_filename

Item = TypeVar("Item")


def _pydantic_v2() -> bool:
    try:
        from importlib.metadata import version

        return not version("pydantic").startswith("1.")
    except Exception:  # not installed
        return False


def __getattr__(name: str) -> Any:
    # PYDANTIC_V2: cog <= 0.16 told its code paths apart by the installed pydantic's major version, and models
    # read it too; computed on first use (importlib.metadata would slow down every `import cog`)
    if name == "PYDANTIC_V2":
        value = globals()["PYDANTIC_V2"] = _pydantic_v2()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ExperimentalFeatureWarning(FutureWarning):
    """Warns about experimental SDK features; models import it to filter the warnings (kept for compatibility)."""


class _CogConfigRequired(TypedDict):
    build: CogBuildConfig
    concurrency: CogConcurrencyConfig


class CogConfig(_CogConfigRequired, total=False):
    """cog.yaml as a dict (cog 0.9 to 0.16); `build` and `concurrency` required, the rest optional."""

    image: str
    predict: str
    train: str


class CogBuildConfig(TypedDict, total=False):
    cuda: Optional[str]
    gpu: Optional[bool]
    python_packages: Optional[List[str]]
    system_packages: Optional[List[str]]
    python_requirements: Optional[str]
    python_version: Optional[str]
    run: Optional[Union[List[str], List[Dict[str, Any]]]]


class CogConcurrencyConfig(TypedDict, total=False):
    max: int


def _is_url(value: str) -> bool:
    return value.startswith(("data:", "http://", "https://"))


class Path(PydanticType, pathlib.PosixPath):
    """A file input or output; URL strings become URLPath (downloaded by the runtime before run())."""

    JSON_SCHEMA = {"type": "string", "format": "uri"}

    @classmethod
    def validate(cls, value: Any) -> "Path":
        if isinstance(value, pathlib.Path):
            return value if isinstance(value, cls) else cls(value)
        if isinstance(value, str) and _is_url(value):
            return URLPath(source=value, filename=get_filename(value))
        return cls(value)


class URLPath(Path):
    """A Path that remembers the URL it comes from; `str()` returns the URL until it is downloaded."""

    def __init__(self, *args: Any, source: str = "", filename: str = "file", **kwargs: Any) -> None:
        if sys.version_info >= (3, 12):  # 3.12+ keeps the path parts in __init__, older Pythons in __new__
            super().__init__(filename)
        self.source = source
        self.filename = filename

    def __new__(cls, *args: Any, source: str = "", filename: str = "file", **kwargs: Any) -> "URLPath":
        obj = super().__new__(cls, filename)
        obj.source = source
        obj.filename = filename
        return obj

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"URLPath({self.source!r})"


class File(PydanticType, io.IOBase):
    """Deprecated file input: data URLs become BytesIO, http(s) URLs a lazily fetched URLFile."""

    JSON_SCHEMA = {"type": "string", "format": "uri"}

    @classmethod
    def validate(cls, value: Any) -> io.IOBase:
        if isinstance(value, io.IOBase):
            return value
        if not isinstance(value, str):
            raise ValueError(f"expected a URL string, got {type(value).__name__}")
        parsed = urllib.parse.urlparse(value)
        if parsed.scheme == "data":
            import base64

            header, _, payload = parsed.path.partition(",")
            if header.endswith(";base64"):
                return io.BytesIO(base64.b64decode(payload))
            return io.BytesIO(urllib.parse.unquote_to_bytes(payload))
        if parsed.scheme in ("http", "https"):
            return URLFile(value)
        raise ValueError(f"'{parsed.scheme}' is not a valid URL scheme. 'data', 'http', or 'https' is supported.")


class URLFile(io.IOBase):
    """A file-like object that downloads its URL on first read (10 s timeout, COG_USER_AGENT honoured)."""

    def __init__(self, url: str, filename: Optional[str] = None) -> None:
        self.__url = url
        self.name = filename or get_filename(url)
        self.__wrapped: Optional[io.BytesIO] = None

    def _wrapped(self) -> io.BytesIO:
        if self.__wrapped is None:
            import httpx

            headers = {}
            if os.environ.get("COG_USER_AGENT"):
                headers["User-Agent"] = os.environ["COG_USER_AGENT"]
            response = httpx.get(self.__url, timeout=10, headers=headers, follow_redirects=True)
            response.raise_for_status()
            self.__wrapped = io.BytesIO(response.content)
        return self.__wrapped

    def read(self, size: int = -1) -> bytes:
        return self._wrapped().read(size)

    def readable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._wrapped().seek(offset, whence)

    def tell(self) -> int:
        return self._wrapped().tell()

    def __repr__(self) -> str:
        return f"URLFile({self.__url!r})"

    def __str__(self) -> str:
        return self.__url


@dataclass(frozen=True)
class Secret(PydanticType):
    """A string input that is never shown: str() is '**********', get_secret_value() returns it."""

    secret_value: Optional[str] = None

    JSON_SCHEMA = {"type": "string", "format": "password", "writeOnly": True, "x-cog-secret": True}

    @classmethod
    def validate(cls, value: Any) -> Secret:
        if isinstance(value, Secret):
            return value
        getter = getattr(value, "get_secret_value", None)  # pydantic's SecretStr, as cog <= 0.16's Secret was
        return cls(getter() if callable(getter) else value)

    def get_secret_value(self) -> Optional[str]:
        return self.secret_value

    def __str__(self) -> str:
        return "**********" if self.secret_value is not None else ""

    def __repr__(self) -> str:
        return "Secret(**********)"


class ConcatenateIterator(Iterator[Item]):
    """Return-type marker: an iterator of str chunks meant to be concatenated for display."""

    def __next__(self) -> Item:  # pragma: no cover - marker type
        raise StopIteration


class AsyncConcatenateIterator(AsyncIterator[Item]):
    """Async form of ConcatenateIterator."""

    async def __anext__(self) -> Item:  # pragma: no cover - marker type
        raise StopAsyncIteration


get_filename = derived_filename  # cog.types.get_filename: Cog's public name for the same rule
get_filename_from_url = derived_filename  # its name in cog 0.10


def get_filename_from_urlopen(resp: Any) -> str:
    """`file<ext>` from a urlopen() response's content type (how cog names data-URL downloads)."""
    extension = mimetypes.guess_extension(resp.headers.get_content_type())
    return "file" + extension if extension else "file"


#: what `setup(self, weights: Weights)` may receive (cog 0.13 to 0.16)
Weights = Union[File, Path, str]


class URLTempFile(URLPath):
    """cog 0.10's name for a URL input downloaded before run(): a URLPath here."""

    def __new__(cls, url: str = "", *args: Any, **kwargs: Any) -> URLTempFile:
        return super().__new__(cls, source=url, filename=get_filename(url))  # type: ignore[return-value]

    def __init__(self, url: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(source=url, filename=get_filename(url))
        self.url = url


class DataURLTempFilePath(URLTempFile):
    """cog 0.10's name for a data-URL input (decoded before run()): a URLPath here."""


__all__ = [
    "AsyncConcatenateIterator",
    "CogBuildConfig",
    "CogConcurrencyConfig",
    "CogConfig",
    "ConcatenateIterator",
    "DataURLTempFilePath",
    "ExperimentalFeatureWarning",
    "FILENAME_ILLEGAL_CHARS",
    "FILENAME_MAX_LENGTH",
    "File",
    "Input",
    "Item",
    "PYDANTIC_V2",
    "Path",
    "Secret",
    "URLFile",
    "URLPath",
    "URLTempFile",
    "Weights",
    "get_filename",
    "get_filename_from_url",
    "get_filename_from_urlopen",
]
