"""Fixtures for cognix.weights tests: a real GCS emulator on 127.0.0.1, local HTTP handlers, private caches."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from servicekit import free_port, running_service

EMULATOR = Path(sys.executable).parent / "gcp-storage-emulator"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("COGNIX_GCS_TOKEN", raising=False)
    monkeypatch.setenv("COGNIX_GCS_METADATA", "0")  # never probe a metadata server from tests


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not EMULATOR.exists():
        pytest.fail(f"{EMULATOR} is missing: pip install gcp-storage-emulator")
    port = free_port()
    log = tmp_path_factory.mktemp("emulator") / "log"
    url = f"http://127.0.0.1:{port}"
    argv = [str(EMULATOR), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
    with running_service(argv, url + "/", log, name="GCS emulator"):
        yield url


@pytest.fixture
def gcs(emulator_url: str, monkeypatch: pytest.MonkeyPatch):
    """An anonymous client on the emulator, with a fresh bucket; env points cognix at the emulator."""
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator_url)
    client = storage.Client.create_anonymous_client()
    client.project = "cognix-test"
    name = f"b{os.getpid()}-{time.monotonic_ns()}"
    bucket = client.create_bucket(name)
    return client, bucket


class Recorder:
    """What a local handler saw: (method, path, Range header) per request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None]] = []
        self.lock = threading.Lock()

    def add(self, method: str, path: str, rng: str | None) -> None:
        with self.lock:
            self.requests.append((method, path, rng))


@pytest.fixture
def http_server() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler, Recorder], None]], tuple[str, Recorder]]]:
    """Start local HTTP servers whose GET/HEAD/POST/PUT are answered by a function; all stopped after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(respond: Callable[[BaseHTTPRequestHandler, Recorder], None]) -> tuple[str, Recorder]:
        recorder = Recorder()

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                recorder.add(self.command, self.path, self.headers.get("range"))
                respond(self, recorder)

            do_GET = do_HEAD = do_POST = do_PUT = _any

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", recorder

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


