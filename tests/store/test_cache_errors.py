"""A full disk while filling the cache: a StoreError saying where and what to do, and no partial file."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from cognix.errors import StoreError
from cognix.store import cache


def test_enospc_on_import_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    data = b"payload" * 1000
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as m:
        m.setattr(cache.shutil, "copyfile", full)
        with pytest.raises(StoreError) as err:
            cache.add_file(source, sha, len(data), "in.bin")
    assert "No space left on device" in err.value.message and "COGNIX_CACHE_DIR" in err.value.message
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []
    assert cache.add_file(source, sha, len(data), "in.bin").read_bytes() == data  # works once there is room


def test_enospc_while_committing_leaves_no_blob_without_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    data = b"x" * 10
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    real_write_text = Path.write_text

    def full(self: Path, *a, **k):
        if ".ok" in self.name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write_text(self, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(Path, "write_text", full)
        with pytest.raises(StoreError, match="No space left"):
            cache.add_file(source, sha, len(data), "in.bin")
    assert cache.cached(sha, len(data)) is None
    assert [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.name.startswith(".")] == []


def test_corrupted_cached_file_is_removed_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    data = b"wheel bytes" * 10
    source = tmp_path / "w.whl"
    source.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    path = cache.add_file(source, sha, len(data), "w.whl")
    assert cache.verify_cached(path, sha, len(data), "w.whl") == path
    path.write_bytes(b"X" * len(data))  # same size: the cheap check still trusts it
    assert cache.cached(sha, len(data)) == path
    with pytest.raises(StoreError, match="w.whl: the cached copy is corrupted"):
        cache.verify_cached(path, sha, len(data), "w.whl")
    assert cache.cached(sha, len(data)) is None and not path.exists()
