"""`cognix weights push`: upload runtime-mode weights to GCS under sha256/<hex> and record their locations."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cognix.errors import WeightsError
from cognix.lock.model import Lock, WeightFile
from cognix.progress import Progress, Silent
from cognix.weights.gcs import gcs_call, storage_client
from cognix.weights.hashing import HashCache
from cognix.weights.sources import materialise

RESUMABLE_CHUNK = 16 << 20  # files above this go up in resumable chunks (a multiple of 256 KiB)


@dataclass(frozen=True)
class PushResult:
    uploaded: int
    present: int
    bytes_uploaded: int
    lock: Lock


def object_name(sha256: str) -> str:
    return f"sha256/{sha256}"


def push_weights(model_dir: Path, lock: Lock, buckets: list[str | None], *, bucket: str | None = None,
                 jobs: int = 8, progress: Progress | None = None, client: Any = None) -> PushResult:
    """Upload the lock's runtime-mode files; buckets[i] is cog.yaml's `bucket` for lock.weights[i].

    Returns the new lock (locations set; input_hash unchanged) and counts; the caller writes it.
    """
    progress = progress or Silent()
    wanted: dict[str, list[tuple[WeightFile, str]]] = {}  # bucket -> (file, ...) deduplicated by sha
    targets: dict[int, str] = {}  # index of each runtime set -> its bucket
    for i, ws in enumerate(lock.weights):
        if ws.mode != "runtime":
            continue
        target = bucket or (buckets[i] if i < len(buckets) else None)
        if not target:
            raise WeightsError(f"no bucket for the runtime weights from {ws.src!r}",
                               where="cog.yaml", fix="set `bucket:` on the entry or pass --bucket")
        target = targets[i] = target.removeprefix("gs://").strip("/")
        for f in ws.files:
            if all(g.sha256 != f.sha256 for g, _ in wanted.get(target, [])):
                wanted.setdefault(target, []).append((f, ws.src))
    if not wanted:
        raise WeightsError("lock.json has no runtime-mode weights to push",
                           fix="set `mode: runtime` on a cog.yaml weights entry and run `cognix lock`")
    client = client or storage_client()
    uploaded = present = sent = 0
    hashes = HashCache()
    for name, files in sorted(wanted.items()):
        existing = gcs_call(f"listing gs://{name}/sha256/", name, lambda name=name: {
            b.name: b.size for b in client.list_blobs(name, prefix="sha256/")})
        todo = [f for f, _ in files if existing.get(object_name(f.sha256)) != f.size]
        present += len(files) - len(todo)
        paths = {f.sha256: materialise(f, model_dir, hashes=hashes, progress=progress) for f in todo}
        hashes.save()
        _upload_all(client.bucket(name), todo, paths, jobs=jobs, progress=progress)
        uploaded += len(todo)
        sent += sum(f.size for f in todo)
    new_sets = []
    for i, ws in enumerate(lock.weights):
        if ws.mode != "runtime":
            new_sets.append(ws)
            continue
        files = [f.model_copy(update={"location": f"gs://{targets[i]}/{object_name(f.sha256)}"}) for f in ws.files]
        new_sets.append(ws.model_copy(update={"files": files}))
    new_lock = lock.model_copy(update={"weights": new_sets})
    return PushResult(uploaded=uploaded, present=present, bytes_uploaded=sent, lock=new_lock)


def _upload_all(bucket: Any, todo: list[WeightFile], paths: dict[str, Path], *, jobs: int,
                progress: Progress) -> None:
    """Upload files in parallel, large ones as resumable uploads in RESUMABLE_CHUNK pieces."""
    lock = threading.Lock()
    progress.start(f"push to gs://{bucket.name}", sum(f.size for f in todo))

    def upload(f: WeightFile) -> None:
        blob = bucket.blob(object_name(f.sha256), chunk_size=RESUMABLE_CHUNK if f.size > RESUMABLE_CHUNK else None)
        gcs_call(f"uploading {f.source}", bucket.name,
                 lambda: blob.upload_from_filename(str(paths[f.sha256]), content_type="application/octet-stream"))
        with lock:
            progress.advance(f.size)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for fut in [pool.submit(upload, f) for f in todo]:
            fut.result()
    progress.done()


def buckets_of(config: Any, lock: Lock) -> list[str | None]:
    """cog.yaml's `bucket` per lock.weights entry (matched by src and dest)."""
    by_key = {(w.src, w.dest): w.bucket for w in (config.weights or [])}
    return [by_key.get((ws.src, ws.dest)) for ws in lock.weights]

