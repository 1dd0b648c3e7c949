"""Input/output types of the Cog SDK: Path, File, Secret, URL helpers, iterator markers."""

from __future__ import annotations

import io
import os
import pathlib
import sys
import urllib.parse
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterator, Optional, TypeVar

from cognix.runtime.filenames import derived_filename

Item = TypeVar("Item")


def _is_url(value: str) -> bool:
    return value.startswith(("data:", "http://", "https://"))


class Path(pathlib.PosixPath):
    """A file input or output; URL strings become URLPath (downloaded by the runtime before run())."""

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


class File(io.IOBase):
    """Deprecated file input: data URLs become BytesIO, http(s) URLs a lazily fetched URLFile."""

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
class Secret:
    """A string input that is never shown: str() is '**********', get_secret_value() returns it."""

    secret_value: Optional[str] = None

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
