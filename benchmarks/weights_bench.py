"""Benchmark the runtime weights pull against one plain single-stream download, on a local GCS emulator.

    .venv/bin/python benchmarks/weights_bench.py [--files 4] [--size-mib 256] [--jobs 8] [--rounds 2]

Uploads FILES random files of SIZE MiB to `gcp-storage-emulator` (in memory, 127.0.0.1), then times:
  plain:  each file in turn as one httpx stream to disk, then sha256 of the file (verification after download)
  pull:   cognix.runtime.weights_pull.pull_weights into an empty cache (parallel, hashed while receiving)
and sha256 throughput on this machine. Prints MB/s (10^6 bytes/s) for each and the pull/plain ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from cognix.runtime import weights_pull
from cognix.runtime.weights_pull import media_url, pull_weights


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The stock emulator serves one request at a time (http.server.HTTPServer); real GCS serves connections in
# parallel. --threaded runs the same emulator code on a ThreadingHTTPServer to stand in for that.
_THREADED = (
    "import http.server, sys; http.server.HTTPServer = http.server.ThreadingHTTPServer; "
    "from gcp_storage_emulator.__main__ import main; sys.argv[0] = 'gcp-storage-emulator'; main()"
)


def start_emulator(threaded: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    args = ["start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
    if threaded:
        cmd = [sys.executable, "-c", _THREADED, *args]
    else:
        cmd = [str(Path(sys.executable).parent / "gcp-storage-emulator"), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the GCS emulator did not start")


def plain_download(urls: list[str], out_dir: Path) -> tuple[float, float]:
    """(seconds downloading, seconds hashing afterwards): one stream per file, one file after another."""
    t0 = time.perf_counter()
    paths = []
    with httpx.Client(timeout=120) as client:
        for i, url in enumerate(urls):
            path = out_dir / f"plain-{i}"
            with client.stream("GET", url) as r, path.open("wb") as f:
                r.raise_for_status()
                for chunk in r.iter_bytes(1 << 20):
                    f.write(chunk)
            paths.append(path)
    t1 = time.perf_counter()
    for path in paths:
        h = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return t1 - t0, time.perf_counter() - t1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threaded", action="store_true", help="serve the emulator from a threaded HTTP server")
    ap.add_argument("--workdir", type=Path, default=None, help="where downloads land (default: a temp dir)")
    args = ap.parse_args()

    from google.cloud import storage

    proc, url = start_emulator(args.threaded)
    os.environ["STORAGE_EMULATOR_HOST"] = url
    work = Path(tempfile.mkdtemp(prefix="weights-bench-", dir=args.workdir))
    try:
        client = storage.Client.create_anonymous_client()
        client.project = "bench"
        bucket = client.create_bucket("bench")
        size = args.size_mib << 20
        files = []
        t0 = time.perf_counter()
        for i in range(args.files):
            data = os.urandom(size)
            th = time.perf_counter()
            sha = hashlib.sha256(data).hexdigest()
            hash_s = time.perf_counter() - th
            bucket.blob(f"sha256/{sha}", chunk_size=64 << 20).upload_from_string(data)
            files.append((sha, size, hash_s))
            del data
        total = size * args.files
        print(f"setup: {args.files} x {args.size_mib} MiB uploaded to the emulator in {time.perf_counter() - t0:.1f} s")
        sha_mbs = total / sum(h for _s, _z, h in files) / 1e6
        print(f"sha256 (in memory, one core): {sha_mbs:.0f} MB/s")

        manifest = work / "weights.json"
        import json

        manifest.write_text(json.dumps({"version": 1, "files": [
            {"dest": str(work / "dest" / f"w{i}.bin"), "sha256": sha, "size": z, "url": f"gs://bench/sha256/{sha}"}
            for i, (sha, z, _h) in enumerate(files)]}))
        urls = [media_url(f"gs://bench/sha256/{sha}") for sha, _z, _h in files]

        part = min(weights_pull.MAX_PART, max(weights_pull.PART_SIZE, -(-total // args.jobs)))
        best_plain = best_pull = float("inf")
        best_plain_dl = 0.0
        for rnd in range(args.rounds):
            dl, hs = plain_download(urls, work)
            for p in work.glob("plain-*"):
                p.unlink()
            cache = work / "cache"
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(work / "dest", ignore_errors=True)
            t = time.perf_counter()
            pull_weights(manifest, lambda _m: None, cache_dir=cache, jobs=args.jobs)
            pull_s = time.perf_counter() - t
            print(f"round {rnd + 1}: plain download {total / dl / 1e6:.0f} MB/s (+ sha256 after: "
                  f"{total / (dl + hs) / 1e6:.0f} MB/s end to end); pull_weights {total / pull_s / 1e6:.0f} MB/s "
                  f"(verified, in place)")
            if dl + hs < best_plain:
                best_plain, best_plain_dl = dl + hs, dl
            best_pull = min(best_pull, pull_s)
        print(f"best: plain {total / best_plain_dl / 1e6:.0f} MB/s download only, {total / best_plain / 1e6:.0f} MB/s "
              f"download+verify; pull_weights {total / best_pull / 1e6:.0f} MB/s download+verify "
              f"(jobs={args.jobs}, parts of {part >> 20} MiB for files >= {weights_pull.RANGE_THRESHOLD >> 20} MiB)")
        print(f"ratio pull / plain (end to end): {best_plain / best_pull:.2f}x; "
              f"vs plain download only: {best_plain_dl / best_pull:.2f}x")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
