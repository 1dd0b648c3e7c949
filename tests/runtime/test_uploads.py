"""--upload-url: output files are streamed from disk, never read into memory whole."""

from __future__ import annotations

import hashlib
import http.server
import threading
import tracemalloc
from pathlib import Path

import pytest

from cognix.runtime.uploads import uploader

SIZE = 100 * 2**20


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: dict[str, tuple[int, str, str]] = {}

    def do_PUT(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        digest = hashlib.sha256()
        left = length
        while left:
            block = self.rfile.read(min(left, 1 << 20))
            if not block:
                break
            digest.update(block)
            left -= len(block)
        self.received[self.path] = (length - left, digest.hexdigest(), self.headers["X-Prediction-Id"])
        self.send_response(201)
        self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/stored{self.path}?sig=x")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/up"
    server.shutdown()
    server.server_close()


def test_a_100_mb_output_is_uploaded_without_reading_it_into_memory(receiver: str, tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    block = bytes(range(256)) * 4096  # 1 MiB
    with path.open("wb") as fh:
        for _ in range(SIZE // len(block)):
            fh.write(block)
    want = hashlib.sha256(path.read_bytes()).hexdigest()
    upload = uploader(receiver, "pred_1")
    tracemalloc.start()
    try:
        url = upload(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert url.endswith("/stored/up/big.bin")  # the Location, its query removed
    assert _Receiver.received["/up/big.bin"] == (SIZE, want, "pred_1")
    assert peak < 8 * 2**20, f"peak Python allocation {peak >> 20} MiB while uploading {SIZE >> 20} MiB"


def test_a_refused_upload_fails_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("x")
    with pytest.raises(RuntimeError, match="Failed to upload output"):
        uploader("http://127.0.0.1:9/", "pred_2")(path)
