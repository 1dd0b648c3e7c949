"""Locking weights: local files with the hash cache, include/exclude, GCS prefixes, URLs and hub repos."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import yaml
from weights_helpers import make_lock

from cognix.config import load_config
from cognix.errors import WeightsError
from cognix.store.cache import cached
from cognix.weights.hashing import HashCache
from cognix.weights.lock import lock_weights

pytestmark = pytest.mark.timeout(120)


def model(tmp_path: Path, weights: list[dict]) -> Path:
    (tmp_path / "cog.yaml").write_text(yaml.safe_dump({"build": {"python_version": "3.11"},
                                                       "predict": "predict.py:Predictor", "weights": weights}))
    (tmp_path / "predict.py").write_text("")
    return tmp_path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_local_directory_with_globs_and_hash_cache(tmp_path: Path) -> None:
    d = model(tmp_path, [{"src": "weights", "dest": "/src/weights", "include": ["*.bin", "sub/*"],
                          "exclude": ["sub/skip*"]}])
    (d / "weights/sub").mkdir(parents=True)
    (d / "weights/a.bin").write_bytes(b"a" * 1000)
    (d / "weights/notes.txt").write_bytes(b"not included")
    (d / "weights/sub/b.json").write_bytes(b"{}")
    (d / "weights/sub/skip.json").write_bytes(b"excluded")
    config = load_config(d)

    hashes = HashCache()
    [ws] = lock_weights(config, d, None, hashes=hashes)
    assert ws.dest == "/src/weights" and ws.mode == "build"
    assert [(f.path, f.source, f.size, f.sha256) for f in ws.files] == [
        ("a.bin", "weights/a.bin", 1000, sha(b"a" * 1000)),
        ("sub/b.json", "weights/sub/b.json", 2, sha(b"{}")),
    ]
    assert len(hashes.hashed) == 2

    again = HashCache()  # a fresh process: reads the persisted cache, hashes nothing
    assert lock_weights(config, d, make_lock(ws), hashes=again) == [ws]
    assert again.hashed == []

    (d / "weights/a.bin").write_bytes(b"b" * 1000)  # same size, new mtime and bytes
    changed = HashCache()
    [ws2] = lock_weights(config, d, make_lock(ws), hashes=changed)
    assert ws2.files[0].sha256 == sha(b"b" * 1000) and ws2.files[1] == ws.files[1]
    assert changed.hashed == [str((d / "weights/a.bin").resolve())]


def test_location_is_kept_while_the_hash_is_unchanged(tmp_path: Path) -> None:
    d = model(tmp_path, [{"src": "w.bin", "dest": "/src/w", "mode": "runtime", "bucket": "my-bucket"}])
    (d / "w.bin").write_bytes(b"x")
    config = load_config(d)
    [ws] = lock_weights(config, d, None)
    pushed = ws.model_copy(update={"files": [ws.files[0].model_copy(update={"location": "gs://my-bucket/sha256/" + sha(b"x")})]})
    [same] = lock_weights(config, d, make_lock(pushed))
    assert same.files[0].location == "gs://my-bucket/sha256/" + sha(b"x")
    (d / "w.bin").write_bytes(b"y")
    [changed] = lock_weights(config, d, make_lock(pushed))
    assert changed.files[0].location is None


def test_no_match_is_an_error(tmp_path: Path) -> None:
    d = model(tmp_path, [{"src": "weights", "dest": "/src/weights", "include": ["*.safetensors"]}])
    (d / "weights").mkdir()
    (d / "weights/a.bin").write_bytes(b"a")
    with pytest.raises(WeightsError, match="matched no files"):
        lock_weights(load_config(d), d, None)


def test_url_ending_in_slash_is_refused(tmp_path: Path) -> None:
    d = model(tmp_path, [{"src": "https://127.0.0.1:9/models/", "dest": "/src/w"}])
    with pytest.raises(WeightsError, match="names a directory.*"):
        lock_weights(load_config(d), d, None)


def test_repo_id_needs_the_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COGNIX_HF_ENDPOINT", raising=False)
    d = model(tmp_path, [{"src": "acme/tiny-model", "dest": "/src/w"}])
    with pytest.raises(WeightsError, match=r"\$COGNIX_HF_ENDPOINT"):
        lock_weights(load_config(d), d, None)


def test_https_url_and_hub_repo(tmp_path: Path, http_server, monkeypatch: pytest.MonkeyPatch) -> None:
    blobs = {"config.json": b'{"a": 1}', "model.safetensors": os.urandom(5000), "README.md": b"# hi"}
    commit = "c0ffee" * 6 + "abcd"

    def hub(handler, _rec) -> None:
        path = handler.path
        if path == "/api/models/acme/tiny/revision/main":
            body = json.dumps({"sha": commit}).encode()
        elif path == f"/api/models/acme/tiny/tree/{commit}?recursive=1":
            body = json.dumps([{"type": "directory", "path": "x"}] + [
                {"type": "file", "path": p, "size": len(b), "oid": sha(b)[:40]} for p, b in sorted(blobs.items())
            ]).encode()
        elif path.startswith(f"/acme/tiny/resolve/{commit}/"):
            body = blobs[path.rsplit("/", 1)[1]]
        elif path == "/files/one.bin":
            body = b"one file"
        else:
            handler.send_response(404)
            handler.send_header("content-length", "0")
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("content-length", str(len(body)))
        handler.send_header("etag", '"v1"')
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)

    url, rec = http_server(hub)
    monkeypatch.setenv("COGNIX_HF_ENDPOINT", url)
    d = model(tmp_path, [{"src": "acme/tiny", "dest": "/src/hub", "exclude": ["*.md"]},
                         {"src": f"{url}/files/one.bin", "dest": "/src/one", "mode": "runtime", "bucket": "my-bucket"}])
    config = load_config(d)
    hub_set, one_set = lock_weights(config, d, None)
    assert [(f.path, f.sha256) for f in hub_set.files] == [("config.json", sha(blobs["config.json"])),
                                                           ("model.safetensors", sha(blobs["model.safetensors"]))]
    assert hub_set.files[0].source == f"{url}/acme/tiny/resolve/{commit}/config.json"
    assert one_set.files[0].path == "one.bin" and one_set.files[0].etag == '"v1"'
    assert all(cached(f.sha256, f.size) for f in hub_set.files + one_set.files)  # hashed into the store

    # Re-lock with the same versions: listings only, no file downloads.
    rec.requests.clear()
    assert lock_weights(config, d, make_lock(hub_set, one_set)) == [hub_set, one_set]
    assert not [p for m, p, _r in rec.requests if m == "GET" and ("/resolve/" in p or p.startswith("/files/"))]


@pytest.mark.slow
def test_gcs_prefix_and_generation_reuse(gcs, tmp_path: Path) -> None:
    _client, bucket = gcs
    bucket.blob("models/m1/a.bin").upload_from_string(b"A" * 100)
    bucket.blob("models/m1/sub/b.bin").upload_from_string(b"B")
    bucket.blob("models/m10/other.bin").upload_from_string(b"not under m1/")
    d = model(tmp_path, [{"src": f"gs://{bucket.name}/models/m1", "dest": "/src/w"}])
    config = load_config(d)
    [ws] = lock_weights(config, d, None)
    assert [(f.path, f.sha256, f.source) for f in ws.files] == [
        ("a.bin", sha(b"A" * 100), f"gs://{bucket.name}/models/m1/a.bin"),
        ("sub/b.bin", sha(b"B"), f"gs://{bucket.name}/models/m1/sub/b.bin"),
    ]
    assert all(f.etag for f in ws.files)
    # Overwritten with same-size bytes: a new generation, so it is hashed again rather than reused.
    bucket.blob("models/m1/a.bin").upload_from_string(b"C" * 100)
    [ws2] = lock_weights(config, d, make_lock(ws))
    assert ws2.files[0].sha256 == sha(b"C" * 100) and ws2.files[1] == ws.files[1]
