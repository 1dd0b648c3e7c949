"""Streaming sha256 with progress, a (path, size, mtime) hash cache, and writing downloads into the store."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from cognix.fileio import write_atomic
from cognix.progress import Progress, Silent
from cognix.store.cache import blob_path, cache_dir, cached

CHUNK = 1 << 20


def hash_cache_path() -> Path:
    return cache_dir() / "weights-hashes.json"


class HashCache:
    """sha256 of local files keyed by (absolute path, size, mtime_ns): a large file is hashed once."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or hash_cache_path()
        try:
            self._data: dict[str, dict] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self._data = {}
        self._dirty = False
        self.hashed: list[str] = []  # paths actually read this session (tests and progress use it)

    def sha256(self, path: Path, progress: Progress | None = None) -> tuple[str, int]:
        st = path.stat()
        key = str(path.resolve())
        hit = self._data.get(key)
        if hit and hit.get("size") == st.st_size and hit.get("mtime_ns") == st.st_mtime_ns:
            return hit["sha256"], st.st_size
        with path.open("rb") as f:
            digest = hash_stream(f, progress, f"hash {path.name}", st.st_size)
        self.hashed.append(key)
        self._data[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
        self._dirty = True
        return digest, st.st_size

    def save(self) -> None:
        if not self._dirty:
            return
        write_atomic(self.path, json.dumps(self._data, sort_keys=True).encode())
        self._dirty = False


def hash_stream(f: BinaryIO, progress: Progress | None, label: str, total: int | None) -> str:
    progress = progress or Silent()
    digest = hashlib.sha256()
    progress.start(label, total)
    while chunk := f.read(CHUNK):
        digest.update(chunk)
        progress.advance(len(chunk))
    progress.done()
    return digest.hexdigest()


class StoreWriter:
    """A file-like sink that hashes what it receives and commits it into the store under its sha256."""

    def __init__(self, name: str, progress: Progress | None = None, total: int | None = None) -> None:
        self.name = name
        self._progress = progress or Silent()
        self._digest = hashlib.sha256()
        self.size = 0
        tmp_dir = cache_dir() / "blobs"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix=".weights-")
        self._tmp = Path(tmp)
        self._out = os.fdopen(fd, "wb")
        self._progress.start(f"download {name}", total)

    def write(self, data: bytes) -> int:
        self._out.write(data)
        self._digest.update(data)
        self.size += len(data)
        self._progress.advance(len(data))
        return len(data)

    def feed(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            self.write(chunk)

    def commit(self) -> tuple[str, int, Path]:
        """Move the received bytes into the store; returns (sha256, size, stored path)."""
        self._out.close()
        self._progress.done()
        sha = self._digest.hexdigest()
        if hit := cached(sha, self.size):
            self._tmp.unlink(missing_ok=True)
            return sha, self.size, hit
        dest = blob_path(sha)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self._tmp, 0o644)
        os.replace(self._tmp, dest)
        # Same marker the store writes after verifying, so cognix.store.cached() finds the blob.
        marker = dest.with_name(dest.name + ".ok")
        marker.write_text(json.dumps({"name": self.name, "sha256": sha, "size": self.size}, sort_keys=True) + "\n")
        return sha, self.size, dest

    def abort(self) -> None:
        self._out.close()
        self._tmp.unlink(missing_ok=True)
