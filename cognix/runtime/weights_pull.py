"""Fetch runtime-mode weights before setup(): parallel ranged downloads, sha256-verified, resumable, cached.

Reads `.cog/weights.json` (see cognix.weights.manifest on the build side):
    {"version": 1, "files": [{"dest": "/src/w/x.bin", "sha256": "<hex>", "size": N, "url": "gs://b/sha256/<hex>"}]}
Each file lands in `<cache>/partial/<sha>` (large files in parts fetched concurrently with Range requests; a
`.parts` file records finished parts), is hashed while it arrives, renamed to `<cache>/<sha>` only when the
sha256 matches, then hard-linked (or copied across devices) to its dest. The cache ($COGNIX_WEIGHTS_CACHE,
default /var/cache/cognix/weights) can be a mounted volume: a verified file there is never fetched again.
Standard library + httpx only: this module ships inside images.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

DEFAULT_CACHE = "/var/cache/cognix/weights"
PUBLIC_GCS = "https://storage.googleapis.com"
RANGE_THRESHOLD = 64 << 20  # files at least this big are fetched in parts, concurrently
PART_SIZE = 16 << 20  # smallest part; parts grow (up to MAX_PART) so that about `jobs` requests cover the set
MAX_PART = 256 << 20
STATE_EVERY = 32 << 20  # record a large file's progress this often
MAX_ATTEMPTS = 6  # consecutive failed attempts without progress, per part
BACKOFF_BASE = 0.25  # seconds; doubles per attempt
BACKOFF_MAX = 8.0
_BUF = 1 << 20


class WeightsPullError(Exception):
    """A runtime weights file could not be fetched or verified; the message names the file and the cause."""


@dataclass(frozen=True)
class ManifestFile:
    dest: str
    sha256: str
    size: int
    url: str


def read_manifest(path: Path) -> list[ManifestFile]:
    try:
        data = json.loads(Path(path).read_text())
        if data.get("version") != 1:
            raise ValueError(f"unsupported version {data.get('version')!r}")
        files = [ManifestFile(dest=str(f["dest"]), sha256=str(f["sha256"]).lower(), size=int(f["size"]),
                              url=str(f["url"])) for f in data["files"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise WeightsPullError(f"{path}: unreadable weights manifest ({err})") from None
    for f in files:
        if len(f.sha256) != 64 or not f.url.startswith(("gs://", "https://", "http://")):
            raise WeightsPullError(f"{path}: bad entry for {f.dest}")
    return files


def media_url(url: str) -> str:
    """gs://bucket/name -> the JSON API media download URL ($STORAGE_EMULATOR_HOST when set)."""
    if not url.startswith("gs://"):
        return url
    bucket, _, name = url[5:].partition("/")
    base = os.environ.get("STORAGE_EMULATOR_HOST", "").rstrip("/") or PUBLIC_GCS
    if "://" not in base:
        base = "http://" + base
    return f"{base}/download/storage/v1/b/{bucket}/o/{quote(name, safe='')}?alt=media"


def _gcs_token() -> str | None:
    """$COGNIX_GCS_TOKEN, else the GCE metadata server's token when it answers quickly, else anonymous."""
    if token := os.environ.get("COGNIX_GCS_TOKEN"):
        return token
    if os.environ.get("STORAGE_EMULATOR_HOST") or os.environ.get("COGNIX_GCS_METADATA", "1") == "0":
        return None
    host = os.environ.get("GCE_METADATA_HOST", "metadata.google.internal")
    try:
        r = httpx.get(f"http://{host}/computeMetadata/v1/instance/service-accounts/default/token",
                      headers={"Metadata-Flavor": "Google"}, timeout=0.5)
        if r.status_code == 200:
            return r.json().get("access_token")
    except (httpx.HTTPError, ValueError):
        pass
    return None


class _Transient(Exception):
    pass


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


class _FileJob:
    """One file's download: its parts, the in-order hasher, and the final verify/rename/link."""

    def __init__(self, f: ManifestFile, cache: Path, headers: dict[str, str], part_size: int) -> None:
        self.f = f
        self.url = media_url(f.url)
        self.headers = headers
        self.final = cache / f.sha256
        self.partial = cache / "partial" / f.sha256
        self.state = cache / "partial" / (f.sha256 + ".parts")
        self.lock = threading.Lock()
        self.hash_lock = threading.Lock()
        self.digest = hashlib.sha256()
        self.hashed = 0  # bytes fed to the digest, always a prefix of the file
        self.resumed = 0
        self.saved_at = 0
        self._split(part_size if f.size >= RANGE_THRESHOLD else 0)

    def _split(self, part_size: int) -> None:
        n = max(1, -(-self.f.size // part_size)) if part_size else 1
        self.part_size = part_size if n > 1 else 0
        step = part_size if n > 1 else max(self.f.size, 1)
        self.parts = [(i * step, min(self.f.size, (i + 1) * step)) for i in range(n)]
        self.have = [0] * n
        self.remaining = n

    def open(self, log: Callable[[str], None]) -> bool:
        """Open (and lock) the partial file; False when another process finished the file meanwhile."""
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.partial, os.O_RDWR | os.O_CREAT, 0o644)
        # Replicas may share a mounted cache: one downloads a file, the others wait for it.
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"weights: waiting for another process fetching {self.f.dest}")
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        if _cached(self.final.parent, self.f):
            os.close(self.fd)
            self.fd = -1
            return False
        size_now = os.fstat(self.fd).st_size
        if len(self.parts) == 1:
            # Sequential writes: the partial file's size is how far it got.
            self.have[0] = min(size_now, self.f.size)
            os.ftruncate(self.fd, self.have[0])
        else:
            try:
                saved = json.loads(self.state.read_text())
                if saved["size"] == self.f.size and int(saved["part"]) > 0:
                    self._split(int(saved["part"]))  # keep the earlier run's parts, so its progress counts
                    if len(saved["have"]) == len(self.parts):
                        self.have = [min(int(h), e - s) for h, (s, e) in zip(saved["have"], self.parts)]
            except (OSError, ValueError, KeyError, TypeError):
                pass
        self.resumed = sum(self.have)
        return True

    def save_state(self) -> None:
        if len(self.parts) == 1:
            return
        with self.lock:
            tmp = self.state.with_name(self.state.name + ".tmp")
            tmp.write_text(json.dumps({"size": self.f.size, "part": self.part_size, "have": self.have}))
            os.replace(tmp, self.state)
            self.saved_at = sum(self.have)

    def advance_hash(self, wait: bool = True) -> None:
        """Feed finished bytes to the digest in file order, reading them back from the page cache."""
        if not self.hash_lock.acquire(blocking=wait):
            return  # another thread is hashing; a later call (at the latest _finish) takes what is left
        try:
            self._advance_hash()
        finally:
            self.hash_lock.release()

    def hash_received(self, chunk: bytes, pos: int) -> None:
        """Hash bytes just written at pos when they continue the digest (no read back)."""
        if not self.hash_lock.acquire(blocking=False):
            return  # another thread is hashing; a later call (at the latest _finish) takes what is left
        try:
            if self.hashed == pos:
                self.digest.update(chunk)
                self.hashed += len(chunk)
            self._advance_hash()
        finally:
            self.hash_lock.release()

    def _advance_hash(self) -> None:
        while self.hashed < self.f.size:
            idx = next(i for i, (s, e) in enumerate(self.parts) if s <= self.hashed < e)
            start = self.parts[idx][0]
            ready = start + self.have[idx]
            if ready <= self.hashed:
                return
            while self.hashed < ready:
                chunk = os.pread(self.fd, min(_BUF, ready - self.hashed), self.hashed)
                if not chunk:
                    raise WeightsPullError(f"{self.f.dest}: partial file shrank while hashing")
                self.digest.update(chunk)
                self.hashed += len(chunk)

    def reset(self) -> None:
        os.ftruncate(self.fd, 0)
        self.have = [0] * len(self.parts)
        self.digest = hashlib.sha256()
        self.hashed = 0
        self.resumed = 0
        self.state.unlink(missing_ok=True)


def _fetch_part(job: _FileJob, idx: int, client: httpx.Client, abort: threading.Event,
                counter: list[int]) -> None:
    start, end = job.parts[idx]
    length = end - start
    failures = 0
    while job.have[idx] < length:
        if abort.is_set():
            return
        offset = start + job.have[idx]
        headers = {**job.headers, "range": f"bytes={offset}-{end - 1}", "accept-encoding": "identity"}
        progressed = False
        try:
            with client.stream("GET", job.url, headers=headers) as r:
                if r.status_code == 429 or r.status_code >= 500:
                    raise _Transient(f"HTTP {r.status_code}")
                if r.status_code in (401, 403):
                    raise WeightsPullError(f"{job.f.dest}: permission denied fetching {job.f.url} "
                                           f"(HTTP {r.status_code}{_gcs_reason(r)})")
                if r.status_code in (404, 410):
                    raise WeightsPullError(f"{job.f.dest}: {job.f.url} not found (HTTP {r.status_code})")
                if r.status_code not in (200, 206):
                    raise WeightsPullError(f"{job.f.dest}: fetching {job.f.url} failed (HTTP {r.status_code})")
                skip = offset if r.status_code == 200 else 0  # the server ignored Range: drop what we have
                for chunk in r.iter_bytes():  # as it arrives: a cut connection keeps what came
                    if skip:
                        cut = min(skip, len(chunk))
                        chunk, skip = chunk[cut:], skip - cut
                    chunk = chunk[: length - job.have[idx]]
                    if not chunk:
                        continue
                    pos = start + job.have[idx]
                    os.pwrite(job.fd, chunk, pos)
                    job.have[idx] += len(chunk)
                    counter[0] += len(chunk)
                    progressed = True
                    if job.hashed == pos:
                        job.hash_received(chunk, pos)  # next in file order: hash it from memory now
                    elif len(job.parts) == 1:
                        job.advance_hash()  # a resumed file: catch up on the prefix from disk, once
                    if len(job.parts) > 1 and sum(job.have) - job.saved_at >= STATE_EVERY:
                        job.save_state()  # a killed run resumes from here
                    if job.have[idx] >= length or abort.is_set():
                        break
            if job.have[idx] < length and not abort.is_set():
                raise _Transient("connection closed early")
        except (httpx.TransportError, _Transient) as err:
            failures = 0 if progressed else failures + 1
            if failures >= MAX_ATTEMPTS:
                raise WeightsPullError(f"{job.f.dest}: fetching {job.f.url} failed after {MAX_ATTEMPTS} attempts "
                                       f"({type(err).__name__}: {err})") from None
            time.sleep(min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(failures - 1, 0)))
    job.save_state()


def _gcs_reason(r: httpx.Response) -> str:
    try:
        r.read()
        return ": " + r.json()["error"]["message"]
    except Exception:  # noqa: BLE001 - the status alone is the cause then
        return ""


def _finish(job: _FileJob) -> None:
    """Verify the whole file and move it into the cache; a mismatch discards it."""
    job.advance_hash()
    actual = job.digest.hexdigest()
    size = os.fstat(job.fd).st_size
    if actual != job.f.sha256 or size != job.f.size:
        job.reset()
        raise WeightsPullError(f"{job.f.dest}: sha256 mismatch for {job.f.url}: expected {job.f.sha256} "
                               f"({job.f.size} bytes), got {actual} ({size} bytes); the download was discarded")
    os.chmod(job.partial, 0o444)  # hard links share it: keep the model from editing the cached copy
    os.replace(job.partial, job.final)
    job.state.unlink(missing_ok=True)
    # Durability without making setup wait for the disk: a crash before this lands can leave a short file,
    # which the size check on the next start refetches.
    fd, job.fd = job.fd, -1
    threading.Thread(target=_sync_close, args=(fd,), daemon=True).start()


def _sync_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _link(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and os.path.samefile(source, dest):
        return
    tmp = dest.with_name(f".{dest.name}.cognix-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError as err:
        if err.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copyfile(source, tmp)
    os.replace(tmp, dest)


def _cached(cache: Path, f: ManifestFile) -> bool:
    try:
        return (cache / f.sha256).stat().st_size == f.size  # only verified files are ever renamed there
    except OSError:
        return False


def pull_weights(manifest_path: Path, log: Callable[[str], None], *, cache_dir: Path | None = None,
                 jobs: int = 8) -> None:
    """Make every manifest file present at its dest with the locked sha256, fetching what the cache lacks."""
    files = read_manifest(manifest_path)
    cache = Path(cache_dir or os.environ.get("COGNIX_WEIGHTS_CACHE") or DEFAULT_CACHE)
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WeightsPullError(f"weights cache {cache} is not writable ({err})") from None
    by_sha: dict[str, ManifestFile] = {}
    for f in files:
        by_sha.setdefault(f.sha256, f)
    missing = [f for f in by_sha.values() if not _cached(cache, f)]
    total = sum(f.size for f in missing)
    log(f"weights: {len(files)} files, {len(by_sha) - len(missing)} cached, "
        f"{len(missing)} to fetch ({_human(total)})")
    if missing:
        _download_all(missing, cache, log, jobs)
    for f in files:
        try:
            _link(cache / f.sha256, Path(f.dest))
        except OSError as err:
            raise WeightsPullError(f"{f.dest}: could not place the file ({err})") from None
    log(f"weights: {len(files)} files in place")


def _download_all(missing: list[ManifestFile], cache: Path, log: Callable[[str], None], jobs: int) -> None:
    headers: dict[str, str] = {}
    if any(f.url.startswith("gs://") for f in missing) and (token := _gcs_token()):
        headers["authorization"] = f"Bearer {token}"
    # Few, large parts: each request costs a round trip (and, on some servers, a pass over the object);
    # enough of them to keep `jobs` connections busy.
    total = sum(f.size for f in missing)
    part_size = min(MAX_PART, max(PART_SIZE, -(-total // jobs)))
    jobs_list = [_FileJob(f, cache, headers, part_size) for f in missing]
    abort = threading.Event()
    counter = [0]
    started = time.monotonic()
    limits = httpx.Limits(max_connections=jobs, max_keepalive_connections=jobs)
    errors: list[str] = []
    with httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0), limits=limits, follow_redirects=True) as client, \
            ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="weights") as pool:
        jobs_list = [job for job in jobs_list if job.open(log)]
        for job in jobs_list:
            if job.resumed:
                log(f"weights: resuming {job.f.dest} at {_human(job.resumed)}")

        def run_part(job: _FileJob, idx: int, retry_whole: bool = True) -> None:
            _fetch_part(job, idx, client, abort, counter)
            with job.lock:
                job.remaining -= 1
                last = job.remaining == 0
            if len(job.parts) > 1:
                job.advance_hash()  # overlap verification with the parts still downloading
            if last and not abort.is_set():
                resumed = job.resumed
                try:
                    _finish(job)
                except WeightsPullError:
                    if not (retry_whole and resumed):
                        raise
                    # A resumed prefix may be what was bad: start this file over once.
                    log(f"weights: {job.f.dest}: resumed download failed verification, fetching it again")
                    job.remaining = len(job.parts)
                    for i in range(len(job.parts)):
                        run_part(job, i, retry_whole=False)
                    return
                log(f"weights: fetched {job.f.dest} ({_human(job.f.size)})")

        futures = [pool.submit(run_part, job, i) for job in jobs_list for i in range(len(job.parts))]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        if any(fut.exception() for fut in done):
            abort.set()
        wait(futures)
        for fut in futures:
            err = fut.exception()
            if err is not None:
                msg = str(err) if isinstance(err, WeightsPullError) else f"{type(err).__name__}: {err}"
                if msg not in errors:
                    errors.append(msg)
        for job in jobs_list:
            if getattr(job, "fd", -1) >= 0:
                job.save_state()
                os.close(job.fd)
    if errors:
        raise WeightsPullError("; ".join(errors))
    elapsed = max(time.monotonic() - started, 1e-9)
    log(f"weights: fetched {_human(counter[0])} in {elapsed:.1f} s ({counter[0] / elapsed / 1e6:.0f} MB/s)")
