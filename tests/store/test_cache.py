"""Store fetch/verify against a local HTTP server."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from cognix.errors import StoreError
from cognix.store import cache


@pytest.fixture()
def server(tmp_path: Path):
    root = tmp_path / "www"
    root.mkdir()
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(root), **k)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(autouse=True)
def cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_fetch_verifies_and_caches(server) -> None:
    root, url = server
    data = b"hello artifact\n" * 100
    (root / "a.bin").write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    path = cache.fetch(f"{url}/a.bin", sha, len(data), "a.bin")
    assert path.read_bytes() == data
    (root / "a.bin").unlink()  # second fetch must not touch the network
    assert cache.fetch(f"{url}/a.bin", sha, len(data), "a.bin") == path
    assert cache.fetch(f"{url}/a.bin", sha, len(data), "a.bin", offline=True) == path


def test_hash_mismatch_is_an_error_and_leaves_nothing(server, cache_env: Path) -> None:
    root, url = server
    (root / "b.bin").write_bytes(b"tampered")
    wanted = hashlib.sha256(b"original").hexdigest()
    with pytest.raises(StoreError) as err:
        cache.fetch(f"{url}/b.bin", wanted, 8, "b.bin")
    assert "b.bin" in err.value.message and wanted in err.value.message
    assert hashlib.sha256(b"tampered").hexdigest() in err.value.message
    assert [p for p in cache_env.rglob("*") if p.is_file()] == []


def test_missing_artifact_and_offline(server) -> None:
    _root, url = server
    sha = "0" * 64
    with pytest.raises(cache.NotFound):
        cache.fetch(f"{url}/nope.deb", sha, 1, "nope.deb")
    with pytest.raises(StoreError, match="--offline"):
        cache.fetch(f"{url}/nope.deb", sha, 1, "nope.deb", offline=True)


def test_cached_file_with_wrong_size_is_refetched(server) -> None:
    root, url = server
    data = b"x" * 50
    (root / "c.bin").write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    path = cache.fetch(f"{url}/c.bin", sha, len(data), "c.bin")
    path.write_bytes(b"short")
    assert cache.cached(sha, len(data)) is None
    assert cache.fetch(f"{url}/c.bin", sha, len(data), "c.bin").read_bytes() == data
