"""Lock cog.yaml's `weights`: list each entry's files and record path, size and sha256."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cognix.errors import WeightsError
from cognix.lock.model import Lock, WeightFile, WeightSet
from cognix.progress import Progress, Silent
from cognix.weights.hashing import HashCache
from cognix.weights.sources import Candidate, download, http_client, list_files, select


def lock_weights(config: Any, model_dir: Path, previous: Lock | None, progress: Progress | None = None,
                 *, hashes: HashCache | None = None) -> list[WeightSet]:
    """One WeightSet per cog.yaml `weights` entry, in cog.yaml order, files sorted by path."""
    progress = progress or Silent()
    model_dir = Path(model_dir)
    hashes = hashes or HashCache()
    old = _previous_files(previous)
    sets = []
    with http_client() as client:
        try:
            for spec in config.weights or []:
                found = select(list_files(spec.src, model_dir, client=client), spec.include, spec.exclude,
                               getattr(spec, "globs", "fnmatch"))
                if not found:
                    raise WeightsError(f"weights entry {spec.src!r} matched no files",
                                       where="cog.yaml", fix="check src and the include/exclude globs")
                files = [_lock_file(c, model_dir, old, hashes, client, progress) for c in found]
                sets.append(WeightSet(src=spec.src, dest=spec.dest, mode=spec.mode, files=files))
        finally:
            hashes.save()
    return _unshadowed(sets)


def _unshadowed(sets: list[WeightSet]) -> list[WeightSet]:
    """Entries sharing a dest (one Cog entry with several sources) are layered in order: a later one's file wins,
    as in Cog, so an earlier copy of that path is dropped rather than shipped twice."""
    out = []
    for i, ws in enumerate(sets):
        later = {f.path for other in sets[i + 1:] if other.dest == ws.dest for f in other.files}
        kept = [f for f in ws.files if f.path not in later]
        out.append(ws if len(kept) == len(ws.files) else ws.model_copy(update={"files": kept}))
    return out


def _previous_files(previous: Lock | None) -> dict[str, WeightFile]:
    return {f.source: f for ws in (previous.weights if previous else []) for f in ws.files}


def _lock_file(c: Candidate, model_dir: Path, old: dict[str, WeightFile], hashes: HashCache,
               client: Any, progress: Progress) -> WeightFile:
    prev = old.get(c.source)
    if c.kind == "local":
        sha, size = hashes.sha256(model_dir / c.source, progress)
        etag = None
    elif prev and c.size is not None and prev.size == c.size and c.etag is not None and prev.etag == c.etag:
        sha, size, etag = prev.sha256, prev.size, prev.etag  # same object version: no re-download
    else:
        sha, size, _path = download(c, client=client, progress=progress)
        etag = c.etag
    location = prev.location if prev and prev.sha256 == sha else None
    if location is None and prev is None:
        location = next((f.location for f in old.values() if f.sha256 == sha and f.location), None)
    return WeightFile(path=c.path, size=size, sha256=sha, source=c.source, location=location, etag=etag)

