"""Deterministic compression for registry blobs and OCI layouts: gzip (the default, every engine pulls it) and
zstd (`./result push --compression zstd`: several times faster to compress and to unpack; Docker >= 23 and
containerd pull it).

The pinned compressor is the Python interpreter's zlib (`zlib.ZLIB_RUNTIME_VERSION`) at level 6, raw
deflate wrapped in a gzip header we write ourselves: mtime 0, no file name, XFL 0, OS byte 255
("unknown"). Compressed bytes are identical wherever the same zlib version runs; `COMPRESSOR` names it
and keys the cached compressed digests, so a different zlib never reuses another's digests. zstd is the
`zstandard` package's libzstd at level 3, single-threaded, no checksum or content size in the frame header:
its bytes depend on that library version alone, which keys its digests the same way. (Docker-archive streams
keep layers uncompressed, like nixpkgs, so image IDs never depend on the compressor.)
"""

from __future__ import annotations

import enum
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Callable, Protocol

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


ZSTD_LEVEL = 3


class Compression(str, enum.Enum):
    GZIP = "gzip"
    ZSTD = "zstd"


class BlobWriter(Protocol):
    def write(self, data: bytes) -> int: ...
    def close(self) -> None: ...


class ZstdWriter:
    """A write-only stream that zstd-compresses into `out`; close() ends the frame (out stays open)."""

    def __init__(self, out: BinaryIO) -> None:
        import zstandard

        params = zstandard.ZstdCompressionParameters.from_level(ZSTD_LEVEL, threads=0, write_checksum=False,
                                                                 write_content_size=False)
        self._writer = zstandard.ZstdCompressor(compression_params=params).stream_writer(out, closefd=False)

    def write(self, data: bytes) -> int:
        self._writer.write(data)
        return len(data)

    def close(self) -> None:
        self._writer.close()


@dataclass(frozen=True)
class Codec:
    compression: Compression
    media_type: str  # of a layer blob in an OCI manifest
    writer: Callable[[BinaryIO], BlobWriter]

    @property
    def compressor(self) -> str:
        """What made the bytes (library, version, level): the key of cached digests."""
        if self.compression is Compression.GZIP:
            return COMPRESSOR
        import zstandard

        return f"zstd-{'.'.join(map(str, zstandard.ZSTD_VERSION))}-{ZSTD_LEVEL}"


CODECS = {
    Compression.GZIP: Codec(Compression.GZIP, "application/vnd.oci.image.layer.v1.tar+gzip", GzipWriter),
    Compression.ZSTD: Codec(Compression.ZSTD, "application/vnd.oci.image.layer.v1.tar+zstd", ZstdWriter),
}
