"""Benchmark: the runtime's cost per streamed token (not a timed test).

    .venv/bin/python benchmarks/stream_bench.py [--tokens 10000] [--rounds 3]

A @streaming predictor yields N tokens (sync generator and async generator). Baseline, measured in the same run:
the same generator iterated in this process, no server. Then through the runtime over loopback: a sync request
(the whole output in one response), an SSE stream (one `output` event per token), and a webhook receiver getting
every `output` event Cog sends (throttled to one per COG_THROTTLE_RESPONSE_INTERVAL, like Cog's) and `completed`.
Per-token overhead = (time through the runtime - baseline) / N; target: a few microseconds.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from runtime_bench import Server  # benchmarks/ is the script's directory, first on sys.path

TARGET_US = 5.0

MODEL = """
from cog import AsyncConcatenateIterator, BasePredictor, ConcatenateIterator, Input, streaming


def tokens(n):
    for i in range(n):
        yield "tok "


class Predictor(BasePredictor):
    @streaming
    def predict(self, n: int = Input(default=10)) -> ConcatenateIterator[str]:
        yield from tokens(n)
"""

ASYNC_MODEL = """
from cog import AsyncConcatenateIterator, BasePredictor, Input, streaming


class Predictor(BasePredictor):
    @streaming
    async def predict(self, n: int = Input(default=10)) -> AsyncConcatenateIterator[str]:
        for i in range(n):
            yield "tok "
"""


def post(server: Server, body: dict, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    conn.request("POST", "/predictions", body=json.dumps(body).encode(),
                 headers={"Content-Type": "application/json", **headers})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


class Hooks(http.server.BaseHTTPRequestHandler):
    done = threading.Event()
    outputs = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if body["status"] in ("succeeded", "failed", "canceled"):
            type(self).outputs = len(body.get("output") or [])
            type(self).done.set()

    def log_message(self, *args: object) -> None:
        pass


def baseline(n: int) -> float:
    def tokens(count: int):
        for _ in range(count):
            yield "tok "

    start = time.perf_counter()
    out = list(tokens(n))
    assert len(out) == n
    return time.perf_counter() - start


def through_runtime(rt: Server, n: int, how: str, hook_url: str) -> float:
    start = time.perf_counter()
    if how == "sync":
        status, data = post(rt, {"input": {"n": n}}, {})
        assert status == 200 and len(json.loads(data)["output"]) == n, data[:200]
    elif how == "sse":
        status, data = post(rt, {"input": {"n": n}}, {"Accept": "text/event-stream"})
        assert status == 200 and data.count(b"event: output") == n, data[-300:]
    else:
        Hooks.done.clear()
        status, _ = post(rt, {"input": {"n": n}, "webhook": hook_url}, {"Prefer": "respond-async"})
        assert status == 202
        assert Hooks.done.wait(120)
        assert Hooks.outputs == n
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n = args.tokens
    hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{hooks.server_port}/hook"
    base = statistics.median(baseline(n) for _ in range(args.rounds))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in (("sync generator", MODEL), ("async generator", ASYNC_MODEL)):
            model = Path(tmp, name.replace(" ", "-"))
            model.mkdir()
            (model / "predict.py").write_text(source)
            rt = Server("cognix", model, Path(sys.executable), 1)  # the runtime benchmark's launcher
            try:
                through_runtime(rt, 100, "sync", hook_url)  # warm-up
                for how in ("sync", "sse", "webhook"):
                    took = statistics.median(through_runtime(rt, n, how, hook_url) for _ in range(args.rounds))
                    rows.append((f"{name}, {how}", took, (took - base) / n * 1e6))
            finally:
                rt.stop()
    hooks.shutdown()
    print(f"{n} tokens; baseline (the generator in-process, no server): {base * 1000:.2f} ms")
    print(f"{'path':28} {'total ms':>10} {'µs/token over baseline':>24} {'target':>8}")
    for label, took, per in rows:
        print(f"{label:28} {took * 1000:>10.1f} {per:>24.1f} {'≤' + str(TARGET_US):>8}")
    print(f"(median of {args.rounds} rounds; a request's fixed cost, about 1 ms, is spread over the tokens)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
