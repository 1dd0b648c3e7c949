"""Benchmark: the cognix runtime vs upstream Cog's server on the same trivial predictor (not a timed test).

    .venv/bin/python benchmarks/runtime_bench.py [--requests 2000] [--cog-venv DIR]

Creates (once) a venv with `pip install cog` (the index comes from the machine's pip configuration), then for each
server: time from process start to READY, sequential predictions/s with p50/p99 over one keep-alive connection,
and 8 concurrent keep-alive clients against an async predictor with COG_MAX_CONCURRENCY=8 (counting 409s).
Neither server gets a bundled .cog/openapi_schema.json (cognix validates anyway; upstream then validates nothing).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SYNC_MODEL = """
from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def setup(self) -> None:
        pass

    def predict(self, text: str = Input(default="x")) -> str:
        return text
"""

ASYNC_MODEL = """
import asyncio

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    async def setup(self) -> None:
        pass

    async def predict(self, text: str = Input(default="x")) -> str:
        await asyncio.sleep(0.005)
        return text
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_cog_venv(path: Path) -> Path:
    python = path / "bin" / "python"
    if not python.exists():
        print(f"creating {path} with `pip install cog` ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "cog"], check=True)
    return python


class Server:
    def __init__(
        self, kind: str, model_dir: Path, cog_python: Path, concurrency: int
    ) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("COG")}
        env.update(
            PORT=str(self.port),
            COG_PREDICT_TYPE_STUB="predict.py:Predictor",
            COG_MAX_CONCURRENCY=str(concurrency),
            LOG_FORMAT="console",
            COG_LOG_LEVEL="error",
        )
        if kind == "cog":
            env["PATH"] = f"{cog_python.parent}{os.pathsep}{env.get('PATH', '')}"
            cmd = [str(cog_python), "-m", "cog.server.http", "--host", "127.0.0.1"]
        else:
            env["PYTHONPATH"] = str(REPO)
            cmd = [sys.executable, "-m", "cognix.runtime", "--host", "127.0.0.1"]
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            cwd=model_dir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.ready_s = self._wait_ready()

    def _wait_ready(self) -> float:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/health-check")
                status = json.loads(conn.getresponse().read())["status"]
                conn.close()
                if status == "READY":
                    return time.perf_counter() - self.started
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.005)
        raise RuntimeError("server did not become READY")

    def tree(self) -> list[int]:
        """The server's process and all its descendants (the worker, upstream's Rust server and Python worker)."""
        parents: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += parents.get(pid, [])
        return found

    def rss_mb(self) -> float:
        total = 0
        for pid in self.tree():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server's processes have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.tree():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / ticks

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


BODY = json.dumps({"input": {"text": "hello"}}).encode()
HEADERS = {"Content-Type": "application/json"}


def one(conn: http.client.HTTPConnection) -> int:
    conn.request("POST", "/predictions", body=BODY, headers=HEADERS)
    resp = conn.getresponse()
    resp.read()
    return resp.status


def sequential(port: int, n: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(50):
        one(conn)
    latencies = []
    not_ok = 0
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        status = one(conn)
        elapsed = time.perf_counter() - t
        if status == 200:
            latencies.append(elapsed)
        else:
            not_ok += 1  # upstream answers 409 now and then: its slot is freed only after the response
    total = time.perf_counter() - start
    conn.close()
    latencies.sort()
    # Only successful predictions count: a quick 409 is not a prediction.
    return {
        "rps": len(latencies) / total,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        "seq_not_200": not_ok,
    }


def concurrent(port: int, clients: int, per_client: int) -> dict:
    codes: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = [one(conn) for _ in range(per_client)]
        conn.close()
        with lock:
            codes.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = time.perf_counter() - start
    return {
        "rps": codes.count(200) / total,
        "409s": codes.count(409),
        "requests": len(codes),
        "other": len([c for c in codes if c not in (200, 409)]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--per-client", type=int, default=200)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternating rounds; the median is reported",
    )
    parser.add_argument(
        "--cog-venv",
        type=Path,
        default=Path.home() / ".cache" / "cognix-bench" / "cog-venv",
    )
    args = parser.parse_args()
    cog_python = ensure_cog_venv(args.cog_venv)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sync_dir, async_dir = Path(tmp, "sync"), Path(tmp, "async")
        for d, src in ((sync_dir, SYNC_MODEL), (async_dir, ASYNC_MODEL)):
            d.mkdir()
            (d / "predict.py").write_text(src)
        rounds: dict[str, list[dict]] = {"cog": [], "cognix": []}
        for _ in range(
            args.rounds
        ):  # alternate the servers so background load hits both alike
            for kind in ("cog", "cognix"):
                server = Server(kind, sync_dir, cog_python, 1)
                try:
                    time.sleep(1.0)  # settled: what it holds while it waits for work
                    idle = server.rss_mb()
                    cpu = server.cpu_s()
                    res = {
                        "ready_s": server.ready_s,
                        **sequential(server.port, args.requests),
                        "idle_rss_mb": idle,
                    }
                    res["cpu_ms"] = (server.cpu_s() - cpu) / (args.requests + 50) * 1000
                finally:
                    server.stop()
                server = Server(kind, async_dir, cog_python, 8)
                try:
                    conc = concurrent(server.port, 8, args.per_client)
                finally:
                    server.stop()
                res.update(
                    {
                        "c8_rps": conc["rps"],
                        "c8_409": conc["409s"],
                        "c8_requests": conc["requests"],
                        "c8_other": conc["other"],
                    }
                )
                rounds[kind].append(res)
        for kind, runs in rounds.items():  # the median round of each metric
            results[kind] = {
                key: statistics.median(r[key] for r in runs) for key in runs[0]
            }
    rows = [
        ("start -> READY (s)", "ready_s", "{:.2f}", False),
        ("idle memory, server + worker RSS (MB)", "idle_rss_mb", "{:.1f}", False),
        ("CPU per sequential request, all processes (ms)", "cpu_ms", "{:.3f}", False),
        ("sequential successful predictions/s", "rps", "{:.0f}", True),
        ("sequential p50 of 200s (ms)", "p50_ms", "{:.2f}", False),
        ("sequential p99 of 200s (ms)", "p99_ms", "{:.2f}", False),
        ("sequential non-200 responses", "seq_not_200", "{:.0f}", False),
        ("8 clients, concurrency 8: successful/s", "c8_rps", "{:.0f}", True),
        ("8 clients, concurrency 8: 409 responses", "c8_409", "{:.0f}", False),
    ]
    print(f"{'metric':44} {'upstream cog':>14} {'cognix':>10} {'cognix/cog':>11}")
    for label, key, fmt, _ in rows:
        cog_v, ours = results["cog"][key], results["cognix"][key]
        ratio = f"{ours / cog_v:.2f}x" if cog_v else "-"
        print(f"{label:44} {fmt.format(cog_v):>14} {fmt.format(ours):>10} {ratio:>11}")
    print(
        f"(median of {args.rounds} alternating rounds; sequential: {args.requests} requests on one keep-alive "
        f"connection; concurrent: 8 keep-alive clients x {args.per_client} requests)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
