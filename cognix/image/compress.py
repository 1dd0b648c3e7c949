"""Deterministic gzip for registry blobs and OCI layouts.

The pinned compressor is the Python interpreter's zlib (`zlib.ZLIB_RUNTIME_VERSION`) at level 6, raw
deflate wrapped in a gzip header we write ourselves: mtime 0, no file name, XFL 0, OS byte 255
("unknown"). Compressed bytes are identical wherever the same zlib version runs; `COMPRESSOR` names it
and keys the cached compressed digests, so a different zlib never reuses another's digests. (Docker-archive
streams keep layers uncompressed, like nixpkgs, so image IDs never depend on the compressor.)
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

LEVEL = 6
COMPRESSOR = f"gzip-zlib{zlib.ZLIB_RUNTIME_VERSION}-{LEVEL}"
_HEADER = b"\x1f\x8b\x08\x00" + b"\0\0\0\0" + b"\x00\xff"


class GzipWriter:
    """A write-only stream that gzips into `out`; call close() to finish the member (out stays open)."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._deflate = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, 9, zlib.Z_DEFAULT_STRATEGY)
        self._crc = 0
        self._size = 0
        out.write(_HEADER)

    def write(self, data: bytes) -> int:
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        compressed = self._deflate.compress(data)
        if compressed:
            self._out.write(compressed)
        return len(data)

    def close(self) -> None:
        self._out.write(self._deflate.flush())
        self._out.write(struct.pack("<II", self._crc & 0xFFFFFFFF, self._size & 0xFFFFFFFF))
