"""The content-addressed download cache: every artifact fetched once, verified by sha256, kept."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import httpx

from cognix.errors import StoreError
from cognix.progress import Progress, Silent

_CHUNK = 1 << 20


def cache_dir() -> Path:
    """$COGNIX_CACHE_DIR, else $XDG_CACHE_HOME/cognix, else ~/.cache/cognix."""
    if env := os.environ.get("COGNIX_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cognix"


def blob_path(sha256: str) -> Path:
    return cache_dir() / "blobs" / sha256[:2] / sha256


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".ok")


def cached(sha256: str, size: int) -> Path | None:
    """The verified cached file, or None. Cheap re-check: size plus the marker written at verify time."""
    path = blob_path(sha256)
    marker = _marker(path)
    try:
        if path.stat().st_size != size:
            return None
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    return path if recorded.get("sha256") == sha256 and recorded.get("size") == size else None


def verify_cached(path: Path, sha256: str, size: int, name: str) -> Path:
    """Re-hash a cached file before it is unpacked: one corrupted on disk is removed and reported, never used."""
    actual = file_sha256(path)
    if actual != sha256:
        path.unlink(missing_ok=True)
        _marker(path).unlink(missing_ok=True)
        raise StoreError(
            f"{name}: the cached copy is corrupted (sha256 {actual}, expected {sha256}); it was removed",
            where=str(path),
            fix="build again to download it afresh (or `cognix import-inputs DIR` when offline)",
        )
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def add_file(source: Path, sha256: str, size: int, name: str) -> Path:
    """Copy a local file into the cache after verifying it (used by import-inputs)."""
    if hit := cached(sha256, size):
        return hit
    dest = blob_path(sha256)
    with disk_errors(f"importing {name} into the download cache", cache_dir()):
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".import-")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
        except OSError:
            os.unlink(tmp)
            raise
    return _commit(Path(tmp), dest, sha256, size, name, where=str(source))


def _commit(tmp: Path, dest: Path, sha256: str, size: int, name: str, *, where: str,
            digest: str | None = None) -> Path:
    """Move a verified download into the cache; `digest` when it was hashed as it was written (else read again)."""
    actual = digest or file_sha256(tmp)
    actual_size = tmp.stat().st_size
    if actual != sha256 or actual_size != size:
        tmp.unlink(missing_ok=True)
        raise StoreError(
            f"{name}: sha256 mismatch (expected {sha256} ({size} bytes), got {actual} ({actual_size} bytes)); "
            "the file was discarded",
            where=where,
            fix="the artifact changed since it was locked: run `cognix lock` again if that is expected, "
            "otherwise check the mirror/index you fetch from",
        )
    with disk_errors(f"storing {name} in the download cache", cache_dir()):
        try:
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
            marker = _marker(dest)
            marker_tmp = marker.with_name(f".{marker.name}.tmp")
            marker_tmp.write_text(json.dumps({"name": name, "sha256": sha256, "size": size}, sort_keys=True) + "\n")
            os.replace(marker_tmp, marker)
        except OSError:
            tmp.unlink(missing_ok=True)
            _marker(dest).with_name(f".{_marker(dest).name}.tmp").unlink(missing_ok=True)
            raise
    return dest


@contextmanager
def disk_errors(what: str, where: Path):
    """Turn a failing write (a full disk, a read-only cache) into a StoreError that says where and what to do."""
    try:
        yield
    except OSError as err:
        raise StoreError(
            f"{what} failed: {err.strerror or err}",
            where=str(where),
            fix="free some space there, or point COGNIX_CACHE_DIR at a file system with room"
            if err.errno in (errno.ENOSPC, errno.EDQUOT) else "check the permissions of the cache directory",
        ) from None


class NotFound(StoreError):
    """The server answered 404/410: the artifact is gone from that location."""


def fetch(
    url: str,
    sha256: str,
    size: int,
    name: str,
    *,
    offline: bool = False,
    progress: Progress | None = None,
    client: httpx.Client | None = None,
) -> Path:
    """Return the cached, verified file for sha256, downloading it from url once if needed."""
    if hit := cached(sha256, size):
        return hit
    if offline:
        raise StoreError(
            f"{name} is not in the cache and --offline forbids downloading it",
            where=str(cache_dir()),
            fix="run `cognix fetch` while online, or `cognix import-inputs DIR` from an exported inputs directory",
        )
    dest = blob_path(sha256)
    with disk_errors(f"storing {name} in the download cache", cache_dir()):
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".fetch-")
    tmp = Path(tmp_name)
    progress = progress or Silent()
    own = client is None
    client = client or httpx.Client(follow_redirects=True, timeout=httpx.Timeout(60.0, connect=20.0))
    try:
        with disk_errors(f"storing {name} in the download cache", cache_dir()), os.fdopen(fd, "wb") as out, \
                client.stream("GET", url) as response:
            if response.status_code in (404, 410):
                raise NotFound(f"{name} is gone from {url} (HTTP {response.status_code})")
            if response.status_code != 200:
                raise StoreError(f"downloading {name} failed: HTTP {response.status_code}", where=url)
            progress.start(f"fetch {name}", size)
            hasher = hashlib.sha256()  # hashed as it arrives: the file is not read a second time
            for chunk in response.iter_bytes(_CHUNK):
                out.write(chunk)
                hasher.update(chunk)
                progress.advance(len(chunk))
            progress.done()
    except httpx.HTTPError as err:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"downloading {name} failed: {err}", where=url, fix="check the network, or use --offline") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if own:
            client.close()
    return _commit(tmp, dest, sha256, size, name, where=url, digest=hasher.hexdigest())
