"""Fixtures for the runtime conformance suite: a real server process and a local HTTP sink on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

MODELS = Path(__file__).parent / "models"
REPO = Path(__file__).resolve().parents[2]
# The interpreter the runtime's own processes run on (the server, `python -m cognix.runtime.schema`): by default the
# one running the tests; COGNIX_RUNTIME_PYTHON=/path/to/venv/bin/python tests the runtime on another Python version
# (that environment needs cognix/runtime/requirements.txt installed; see tests/runtime/test_runtime_pythons.py).
RUNTIME_PYTHON = os.environ.get("COGNIX_RUNTIME_PYTHON") or sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`python -m cognix.runtime` for one test model."""

    def __init__(
        self,
        model: str,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("COG")}
        full_env.update(
            {
                "PORT": str(self.port),
                "COG_PREDICT_TYPE_STUB": "predict.py:Predictor",
                "PYTHONPATH": str(REPO),
            }
        )
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [
                RUNTIME_PYTHON,
                "-m",
                "cognix.runtime",
                "--host",
                "127.0.0.1",
                *(args or []),
            ],
            cwd=MODELS / model,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.client = httpx.Client(base_url=self.url, timeout=30.0)

    def wait(
        self, statuses: tuple[str, ...] = ("READY",), timeout: float = 30.0
    ) -> dict:
        deadline = time.monotonic() + timeout
        last: dict = {}
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"server exited {self.proc.returncode}: {self.proc.stdout.read().decode()}"
                )
            try:
                last = self.client.get("/health-check").json()
                if last["status"] in statuses:
                    return last
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"server not {statuses} after {timeout}s: {last}")

    def stop(self) -> int:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def start_server() -> Iterator:
    started: list[ServerProcess] = []

    def start(
        model: str,
        *,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        wait: tuple[str, ...] | None = ("READY",),
    ) -> ServerProcess:
        server = ServerProcess(model, env, args)
        started.append(server)
        if wait:
            server.wait(wait)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def basic_server() -> Iterator[ServerProcess]:
    server = ServerProcess("basic")
    server.wait()
    yield server
    server.stop()


class Sink:
    """Local HTTP server: records POSTed webhooks, accepts PUT uploads, serves GET of stored files."""

    def __init__(self) -> None:
        self.webhooks: list[dict] = []
        self.headers: list[dict] = []
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, bytes] = {"/hello.txt": b"hello from url"}
        self.fail_first = 0
        self.slow_first = 0.0  # seconds the first webhook's answer takes (later ones must still arrive after it)
        self.cond = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("content-length") or 0))

            def do_POST(self) -> None:
                body = self._body()
                with sink.cond:
                    delay, sink.slow_first = sink.slow_first, 0.0
                time.sleep(delay)
                with sink.cond:
                    if sink.fail_first > 0:
                        sink.fail_first -= 1
                        self.send_response(503)
                        self.end_headers()
                        return
                    sink.webhooks.append(json.loads(body))
                    sink.headers.append(dict(self.headers))
                    sink.cond.notify_all()
                self.send_response(200)
                self.end_headers()

            def do_PUT(self) -> None:
                body = self._body()
                name = self.path.rsplit("/", 1)[-1]
                # Make later files finish first, to show the output order does not follow completion order.
                time.sleep(
                    0.05 * (3 - int(name[5]))
                    if name.startswith("thing") and name[5].isdigit()
                    else 0
                )
                with sink.cond:
                    sink.uploads[name] = body
                self.send_response(201)
                self.send_header(
                    "Location", f"http://127.0.0.1:{sink.port}/stored/{name}?sig=abc"
                )
                self.end_headers()

            def do_GET(self) -> None:
                data = sink.files.get(self.path)
                self.send_response(200 if data is not None else 404)
                self.send_header("content-length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate, timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self.webhooks):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"webhooks never matched: {self.webhooks}")
                self.cond.wait(left)
            return list(self.webhooks)


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink()
    yield s
    s.server.shutdown()
