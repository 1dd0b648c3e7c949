"""Runtime pull against the GCS emulator: verify, cache, resume, retry, and clear failures."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from weights_helpers import forbidden, make_proxy

from cognix.runtime import weights_pull
from cognix.runtime.weights_pull import WeightsPullError, pull_weights

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights_pull, "BACKOFF_BASE", 0.01)


def upload(bucket, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    bucket.blob(f"sha256/{sha}").upload_from_string(data)
    return sha


def write_manifest(path: Path, bucket_name: str, files: dict[Path, bytes]) -> Path:
    entries = []
    for dest, data in files.items():
        sha = hashlib.sha256(data).hexdigest()
        entries.append({"dest": str(dest), "sha256": sha, "size": len(data), "url": f"gs://{bucket_name}/sha256/{sha}"})
    path.write_text(json.dumps({"version": 1, "files": entries}))
    return path


def test_pull_places_verified_files_and_reuses_the_cache(gcs, tmp_path: Path) -> None:
    _client, bucket = gcs
    files = {tmp_path / "src/weights/a.bin": os.urandom(300_000), tmp_path / "src/weights/sub/b.txt": b"hello"}
    for data in files.values():
        upload(bucket, data)
    manifest = write_manifest(tmp_path / "weights.json", bucket.name, files)
    cache = tmp_path / "cache"
    logs: list[str] = []
    pull_weights(manifest, logs.append, cache_dir=cache)
    for dest, data in files.items():
        assert dest.read_bytes() == data
        assert dest.stat().st_ino == (cache / hashlib.sha256(data).hexdigest()).stat().st_ino  # hard link
    assert not list((cache / "partial").iterdir())
    # A restart with the cache kept: nothing fetched, even with the dests gone.
    for dest in files:
        dest.unlink()
    logs.clear()
    pull_weights(manifest, logs.append, cache_dir=cache)
    assert logs[0] == "weights: 2 files, 2 cached, 0 to fetch (0 B)"
    assert all(dest.read_bytes() == data for dest, data in files.items())


def test_large_file_in_parallel_ranged_parts(gcs, tmp_path: Path, http_server, emulator_url,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights_pull, "RANGE_THRESHOLD", 1 << 20)
    monkeypatch.setattr(weights_pull, "PART_SIZE", 256 << 10)
    monkeypatch.setattr(weights_pull, "MAX_PART", 256 << 10)
    _client, bucket = gcs
    data = os.urandom((1 << 20) + 12345)
    upload(bucket, data)
    proxy, rec = http_server(make_proxy(emulator_url))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy)
    dest = tmp_path / "src/w.bin"
    pull_weights(write_manifest(tmp_path / "m.json", bucket.name, {dest: data}), lambda _m: None,
                 cache_dir=tmp_path / "cache", jobs=4)
    assert dest.read_bytes() == data
    ranges = sorted(r for _m, _p, r in rec.requests)
    assert len(ranges) == 5  # 4 whole parts + the tail
    assert f"bytes={4 * (256 << 10)}-{len(data) - 1}" in ranges


def test_corrupted_blob_is_detected_and_not_used(gcs, tmp_path: Path) -> None:
    _client, bucket = gcs
    good = os.urandom(50_000)
    sha = upload(bucket, good)
    bucket.blob(f"sha256/{sha}").upload_from_string(os.urandom(50_000))  # same name, other bytes
    dest = tmp_path / "src/w.bin"
    cache = tmp_path / "cache"
    with pytest.raises(WeightsPullError) as err:
        pull_weights(write_manifest(tmp_path / "m.json", bucket.name, {dest: good}), lambda _m: None, cache_dir=cache)
    assert str(dest) in str(err.value) and "sha256 mismatch" in str(err.value)
    assert not dest.exists()
    assert not (cache / sha).exists()


def test_interrupted_download_resumes_from_the_partial(gcs, tmp_path: Path, http_server, emulator_url,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _client, bucket = gcs
    data = os.urandom(400_000)
    sha = upload(bucket, data)
    cache = tmp_path / "cache"
    (cache / "partial").mkdir(parents=True)
    (cache / "partial" / sha).write_bytes(data[:150_000])  # what an interrupted run left
    proxy, rec = http_server(make_proxy(emulator_url))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy)
    dest = tmp_path / "src/w.bin"
    logs: list[str] = []
    pull_weights(write_manifest(tmp_path / "m.json", bucket.name, {dest: data}), logs.append, cache_dir=cache)
    assert dest.read_bytes() == data
    assert [r for _m, _p, r in rec.requests] == ["bytes=150000-399999"]
    assert any("resuming" in line for line in logs)


def test_resumed_parts_of_a_large_file_are_not_fetched_again(gcs, tmp_path: Path, http_server,
                                                             emulator_url, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights_pull, "RANGE_THRESHOLD", 1 << 20)
    monkeypatch.setattr(weights_pull, "PART_SIZE", 512 << 10)
    _client, bucket = gcs
    data = os.urandom(3 * (512 << 10))
    sha = upload(bucket, data)
    cache = tmp_path / "cache"
    (cache / "partial").mkdir(parents=True)
    part = 512 << 10
    partial = bytearray(len(data))
    partial[:part] = data[:part]
    partial[2 * part: 2 * part + 1000] = data[2 * part: 2 * part + 1000]
    (cache / "partial" / sha).write_bytes(bytes(partial))
    (cache / "partial" / f"{sha}.parts").write_text(json.dumps({"size": len(data), "part": part,
                                                                "have": [part, 0, 1000]}))
    proxy, rec = http_server(make_proxy(emulator_url))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy)
    dest = tmp_path / "src/w.bin"
    pull_weights(write_manifest(tmp_path / "m.json", bucket.name, {dest: data}), lambda _m: None, cache_dir=cache)
    assert dest.read_bytes() == data
    assert sorted(r for _m, _p, r in rec.requests) == sorted([f"bytes={part}-{2 * part - 1}",
                                                               f"bytes={2 * part + 1000}-{3 * part - 1}"])


def test_dropped_connections_are_retried(gcs, tmp_path: Path, http_server, emulator_url,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _client, bucket = gcs
    data = os.urandom(200_000)
    upload(bucket, data)
    proxy, rec = http_server(make_proxy(emulator_url, drop_after=30_000, drops=3))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy)
    dest = tmp_path / "src/w.bin"
    pull_weights(write_manifest(tmp_path / "m.json", bucket.name, {dest: data}), lambda _m: None,
                 cache_dir=tmp_path / "cache")
    assert dest.read_bytes() == data
    ranges = [r for _m, _p, r in rec.requests]
    assert len(ranges) == 4
    assert ranges[0] == "bytes=0-199999" and ranges[-1] == "bytes=90000-199999"  # each retry resumes


def test_a_server_that_always_fails_gives_up_with_the_cause(gcs, tmp_path: Path, http_server,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _client, bucket = gcs

    def unavailable(handler, _rec) -> None:
        handler.send_response(503)
        handler.send_header("content-length", "0")
        handler.end_headers()

    url, rec = http_server(unavailable)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
    dest = tmp_path / "src/w.bin"
    with pytest.raises(WeightsPullError, match=r"w\.bin: .*failed after 6 attempts .*HTTP 503"):
        pull_weights(write_manifest(tmp_path / "m.json", bucket.name, {dest: b"x" * 10}), lambda _m: None,
                     cache_dir=tmp_path / "cache")
    assert len(rec.requests) == weights_pull.MAX_ATTEMPTS
    assert not dest.exists()


def test_missing_blob_is_a_clear_error(gcs, tmp_path: Path) -> None:
    _client, bucket = gcs
    dest = tmp_path / "src/w.bin"
    with pytest.raises(WeightsPullError, match=r"w\.bin: gs://.*/sha256/[0-9a-f]{64} not found \(HTTP 404\)"):
        pull_weights(write_manifest(tmp_path / "m.json", bucket.name, {dest: b"never uploaded"}), lambda _m: None,
                     cache_dir=tmp_path / "cache")
    assert not dest.exists()


def test_bucket_without_permission_is_a_clear_error(tmp_path: Path, http_server,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    url, _rec = http_server(forbidden)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
    dest = tmp_path / "src/w.bin"
    with pytest.raises(WeightsPullError, match=r"permission denied .*HTTP 403: anonymous caller does not have"):
        pull_weights(write_manifest(tmp_path / "m.json", "private", {dest: b"x"}), lambda _m: None,
                     cache_dir=tmp_path / "cache")
    assert not dest.exists()


def test_unreadable_manifest(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text('{"version": 2, "files": []}')
    with pytest.raises(WeightsPullError, match="unsupported version 2"):
        pull_weights(tmp_path / "m.json", lambda _m: None, cache_dir=tmp_path / "cache")


def test_a_bad_resumed_prefix_is_fetched_again_once(gcs, tmp_path: Path) -> None:
    _client, bucket = gcs
    data = os.urandom(100_000)
    sha = upload(bucket, data)
    cache = tmp_path / "cache"
    (cache / "partial").mkdir(parents=True)
    (cache / "partial" / sha).write_bytes(os.urandom(40_000))  # not a prefix of the blob
    dest = tmp_path / "src/w.bin"
    logs: list[str] = []
    pull_weights(write_manifest(tmp_path / "m.json", bucket.name, {dest: data}), logs.append, cache_dir=cache)
    assert dest.read_bytes() == data
    assert any("failed verification, fetching it again" in line for line in logs)


def test_two_pullers_sharing_a_cache_download_once(gcs, tmp_path: Path, http_server, emulator_url,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    _client, bucket = gcs
    data = os.urandom(2_000_000)
    upload(bucket, data)
    proxy, rec = http_server(make_proxy(emulator_url))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy)
    cache = tmp_path / "cache"
    errors: list[BaseException] = []

    def pull(i: int) -> None:
        try:
            pull_weights(write_manifest(tmp_path / f"m{i}.json", bucket.name, {tmp_path / f"r{i}/w.bin": data}),
                         lambda _m: None, cache_dir=cache)
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=pull, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert (tmp_path / "r0/w.bin").read_bytes() == data and (tmp_path / "r1/w.bin").read_bytes() == data
    assert len(rec.requests) == 1
