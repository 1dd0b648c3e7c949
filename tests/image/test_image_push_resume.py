"""Pushes survive dropped connections: a proxy in front of the real local registry cuts chunk uploads. Cut
between chunks (after a PATCH's headers, before its body), the upload resumes where the registry says it got to;
cut inside a chunk, docker-registry gives the session up and that blob starts again. Either way it arrives whole."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from pathlib import Path

import httpx
import pytest

from cognix.image import registry_client
from cognix.image.registry import push
from image_trees import make_plan, make_src_tree, make_system_tree

pytestmark = pytest.mark.slow


class DroppingProxy:
    """TCP proxy to `target`; the first `drops` PATCH requests of a blob's later chunks (Content-Range not from 0)
    are cut after `after` bytes of their body."""

    def __init__(self, target: str, *, drops: int, after: int) -> None:
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.drops, self.after = drops, after
        self.upstream_bytes = 0
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, upward: bool) -> None:
        seen = b""
        body_at: int | None = None
        try:
            while data := src.recv(65536):
                if upward:
                    seen += data
                    with self.lock:
                        self.upstream_bytes += len(data)
                        cut = self._cut_point(seen, body_at)
                    if body_at is None and b"PATCH " in seen and b"\r\n\r\n" in seen[seen.index(b"PATCH "):]:
                        start = seen.index(b"PATCH ")
                        end = seen.index(b"\r\n\r\n", start) + 4
                        if b"content-range: 0-" in seen[start:end].lower():
                            seen = seen[end:]  # a first chunk: let it through, look at the next request
                        else:
                            body_at = end
                        with self.lock:
                            cut = self._cut_point(seen, body_at)
                    if cut is not None:
                        dst.sendall(data[: max(0, len(data) - (len(seen) - cut))])
                        raise ConnectionResetError
                    seen = seen if body_at is not None or len(seen) < 1 << 20 else seen[-65536:]
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def _cut_point(self, seen: bytes, body_at: int | None) -> int | None:
        if body_at is None or self.drops <= 0 or len(seen) < body_at + self.after:
            return None
        self.drops -= 1
        return body_at + self.after

    def close(self) -> None:
        self.server.close()


def _push_through(local_registry: str, tmp_path: Path, *, drops: int, after: int) -> tuple[DroppingProxy, int]:
    src = make_src_tree(tmp_path / "r")
    (src / "src" / "weights.bin").write_bytes(os.urandom(10 << 20))  # incompressible: a 10 MiB blob, 3 chunks
    plan = make_plan(make_system_tree(tmp_path / "s"), src, repo_tag="cognix-test-resume:v1")
    proxy = DroppingProxy(local_registry, drops=drops, after=after)
    try:
        result = push(plan, f"{proxy.address}/cognix/resume:v1")
    finally:
        proxy.close()
    assert proxy.drops == 0  # every cut happened
    assert len(result.uploaded) == 3
    manifest = httpx.get(f"http://{local_registry}/v2/cognix/resume/manifests/v1",
                         headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}).json()
    total = 0
    for layer in manifest["layers"]:
        blob = httpx.get(f"http://{local_registry}/v2/cognix/resume/blobs/{layer['digest']}").content
        assert "sha256:" + hashlib.sha256(blob).hexdigest() == layer["digest"] and len(blob) == layer["size"]
        total += layer["size"]
    return proxy, total


@pytest.fixture
def small_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(registry_client, "CHUNK", 4 << 20)


def test_a_drop_between_chunks_resumes(local_registry: str, tmp_path: Path, small_chunks: None) -> None:
    proxy, total = _push_through(local_registry, tmp_path, drops=2, after=0)
    # resumed, not restarted: nothing but the headers of the two cut requests is sent twice
    assert proxy.upstream_bytes < total + (256 << 10), (proxy.upstream_bytes, total)


def test_a_drop_inside_a_chunk_restarts_that_blob(local_registry: str, tmp_path: Path, small_chunks: None) -> None:
    proxy, total = _push_through(local_registry, tmp_path, drops=1, after=1 << 20)
    assert proxy.upstream_bytes < 2 * total + (1 << 20), (proxy.upstream_bytes, total)
