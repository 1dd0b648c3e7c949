"""Which Debian package ships a file: the suite's Contents index, for advice when an sdist build misses a header.

Only read after a build failed (bookworm's main/Contents-amd64.gz is ~12 MB), verified against the Release file
like the Packages index, and kept in the cache by its sha256.
"""

from __future__ import annotations

import contextlib
import gzip
import re
from pathlib import Path

from cognix.errors import LockError
from cognix.fileio import write_atomic
from cognix.lock.debian import index
from cognix.lock.debian.sources import family_sources
from cognix.progress import Progress

_MAX = 3  # providers named per missing file


def _contents(suite: str, *, mirror: str | None, progress: Progress | None, apt_root: Path) -> bytes:
    source = family_sources(suite, mirror=mirror, apt_root=apt_root)[0]
    release = index.fetch_release(source, progress)
    path = next((p for p in ("main/Contents-amd64.gz", "main/Contents-amd64") if p in release.files), None)
    if path is None:
        raise LockError(f"{suite}'s Release file lists no main/Contents-amd64")
    cached = index.cache_dir() / "contents" / f"{release.files[path][0]}.gz"
    try:
        data = cached.read_bytes()
    except OSError:
        data = index.fetch_verified(release, path, progress)
        if not path.endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        with contextlib.suppress(OSError):
            write_atomic(cached, data)
    return gzip.decompress(data)


def providers(suite: str, wanted: list[tuple[str, re.Pattern[str]]], *, mirror: str | None = None,
              progress: Progress | None = None, apt_root: Path = Path("/etc/apt")) -> list[list[str]]:
    """For each (needle, pattern): the packages shipping a file whose path contains needle and fully matches
    pattern, -dev packages first. The needle is a fast pre-filter over the index's ~3 million lines."""
    found: list[set[str]] = [set() for _ in wanted]
    text = _contents(suite, mirror=mirror, progress=progress, apt_root=apt_root).decode("utf-8", errors="replace")
    for i, (needle, pattern) in enumerate(wanted):
        start = 0
        while (hit := text.find(needle, start)) >= 0:
            line_start = text.rfind("\n", 0, hit) + 1
            line_end = text.find("\n", hit)
            line_end = len(text) if line_end < 0 else line_end
            path, _, where = text[line_start:line_end].rpartition(" ")
            if pattern.fullmatch(path.strip()):
                found[i].update(p.rsplit("/", 1)[-1] for p in where.split(","))
            start = line_end + 1
    return [sorted(names, key=lambda n: (not n.endswith("-dev"), n))[:_MAX] for names in found]
