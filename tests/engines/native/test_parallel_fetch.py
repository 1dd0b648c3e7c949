"""Downloads run side by side (bounded), each hashed as it arrives, with one progress line; a bad one fails the
whole fetch and leaves no partial file in the cache."""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from pathlib import Path

import pytest

from cognix.engines.native.entries import FETCH_WORKERS, SharedProgress
from cognix.parallel import map_bounded
from cognix.errors import StoreError
from cognix.store import cache

DELAY_S = 0.3


@pytest.fixture
def slow_server(tmp_path: Path):
    files = {f"/f{i}.bin": bytes([i]) * (200_000 + i) for i in range(8)}
    running = {"now": 0, "most": 0}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            with lock:
                running["now"] += 1
                running["most"] = max(running["most"], running["now"])
            time.sleep(DELAY_S)
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")
            with lock:
                running["now"] -= 1

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", files, running
    server.shutdown()
    server.server_close()


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def start(self, label: str, total: int | None = None) -> None:
        self.calls.append(("start", label, total))

    def advance(self, amount: int = 1) -> None:
        self.calls.append(("advance", amount))

    def done(self) -> None:
        self.calls.append(("done",))


def _fetch_all(base: str, files: dict[str, bytes], progress, *, corrupt: str | None = None) -> list[Path]:
    """The files fetched side by side, as fetch_all fetches a lock's inputs."""

    def fetch(item: tuple[str, bytes]) -> Path:
        path, body = item
        sha = hashlib.sha256(b"x" if path == corrupt else body).hexdigest()
        return cache.fetch(base + path, sha, len(body), path.strip("/"), progress=progress)

    return map_bounded(fetch, list(files.items()), workers=FETCH_WORKERS)


def test_downloads_run_side_by_side_with_one_progress_line(slow_server, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    base, files, running = slow_server
    recorder = Recorder()
    shared = SharedProgress(recorder)
    shared.begin("fetching 8 of 8 inputs", sum(map(len, files.values())))
    started = time.monotonic()
    out = _fetch_all(base, files, shared)
    took = time.monotonic() - started
    shared.finish()
    assert took < DELAY_S * len(files) / 2, took  # not one after another
    assert 1 < running["most"] <= FETCH_WORKERS
    assert [p.read_bytes() for p in out] == list(files.values())
    assert recorder.calls[0] == ("start", "fetching 8 of 8 inputs", sum(map(len, files.values())))
    assert recorder.calls[-1] == ("done",) and [c[0] for c in recorder.calls[1:-1]] == ["advance"] * (
        len(recorder.calls) - 2)  # the files' own start/done stay quiet
    assert sum(c[1] for c in recorder.calls if c[0] == "advance") == sum(map(len, files.values()))


def test_a_bad_download_fails_the_fetch_and_leaves_nothing_half_written(slow_server, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    base, files, _ = slow_server
    with pytest.raises(StoreError, match="sha256 mismatch"):
        _fetch_all(base, files, SharedProgress(Recorder()), corrupt="/f3.bin")
    leftovers = [p.name for p in (tmp_path / "cache").rglob("*") if p.name.startswith(".fetch-")]
    assert leftovers == []
