"""A lock's inputs outside the build: pre-fetching, exporting and importing them (content-addressed by sha256)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from cognix.errors import StoreError
from cognix.lock.model import Lock
from cognix.store import cache


def artifacts(lock: Lock) -> list[tuple[str, int, str]]:
    """(sha256, size, name) of every downloadable input of the lock."""
    from cognix.engines.native.entries import setup_debs  # the image setup's ldconfig (libc-bin) too

    items = [(d.sha256, d.size, f"{d.package}_{d.version}_{d.architecture}.deb") for d in [*lock.debs,
                                                                                          *setup_debs(lock)]]
    # wheels built from sdists travel as built (their sha256 is locked), so no toolchain is needed to import them
    items += [(w.sha256, w.size, w.filename) for w in lock.wheels]
    if lock.python is not None:
        items.append((lock.python.sha256, lock.python.size, lock.python.filename))
    return sorted(items)


def export_inputs(lock: Lock, dest: Path) -> int:
    """Copy the lock's cached inputs to dest/<sha256>; returns how many. Every one must be cached."""
    missing = [name for sha, size, name in artifacts(lock) if cache.cached(sha, size) is None]
    if missing:
        raise StoreError(f"{len(missing)} inputs are not in the cache, e.g. {missing[0]}",
                         fix="run `cognix fetch` first")
    with cache.disk_errors("creating the export directory", dest):
        dest.mkdir(parents=True, exist_ok=True)
    for sha, size, name in artifacts(lock):
        target = dest / sha
        if target.is_file() and target.stat().st_size == size:
            continue
        tmp = dest / f".{sha}.tmp"
        source = cache.verify_cached(cache.blob_path(sha), sha, size, name)
        with cache.disk_errors(f"exporting {name}", dest):
            try:
                shutil.copyfile(source, tmp)
                os.replace(tmp, target)
            except OSError:
                tmp.unlink(missing_ok=True)
                raise
    return len(artifacts(lock))


def import_inputs(source: Path) -> int:
    """Add every file named by its sha256 in source to the cache, verifying each; returns how many."""
    if not source.is_dir():
        raise StoreError("not a directory", where=str(source))
    count = 0
    for path in sorted(source.iterdir()):
        if re.fullmatch(r"[0-9a-f]{64}", path.name) and path.is_file():
            cache.add_file(path, path.name, path.stat().st_size, path.name)
            count += 1
    return count
