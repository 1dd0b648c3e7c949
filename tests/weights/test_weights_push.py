"""`cognix weights push` against the GCS emulator, then the runtime pulling what was pushed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from weights_helpers import forbidden, make_lock, weight_file

from cognix.cli.main import cli
from cognix.config import load_config
from cognix.errors import WeightsError
from cognix.lock.inputs import input_hash
from cognix.lock.lockfile import read_lock, write_lock
from cognix.lock.model import Runtime, WeightSet
from cognix.lock.runtime_pin import runtime_digest
from cognix.runtime.weights_pull import pull_weights
from cognix.weights.lock import lock_weights
from cognix.weights.manifest import manifest_for
from cognix.weights.push import push_weights

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def runtime_set(d: Path, files: dict[str, bytes]) -> WeightSet:
    for name, data in files.items():
        (d / "w").mkdir(exist_ok=True)
        (d / "w" / name).write_bytes(data)
    return WeightSet(src="w", dest="/src/w", mode="runtime",
                     files=[weight_file(n, b, f"w/{n}") for n, b in sorted(files.items())])


def test_push_twice_uploads_nothing_new_and_the_runtime_pulls_it(gcs, tmp_path: Path) -> None:
    client, bucket = gcs
    big = os.urandom(20 << 20)  # above the resumable threshold: goes up in chunks
    ws = runtime_set(tmp_path, {"big.bin": big, "small.json": b"{}", "dup.json": b"{}"})
    lock = make_lock(ws)
    first = push_weights(tmp_path, lock, [bucket.name], client=client, jobs=4)
    assert (first.uploaded, first.present, first.bytes_uploaded) == (2, 0, len(big) + 2)  # dup.json is the same blob
    assert first.lock.input_hash == lock.input_hash
    assert {f.location for f in first.lock.weights[0].files} == {
        f"gs://{bucket.name}/sha256/{f.sha256}" for f in ws.files}
    assert bucket.blob(f"sha256/{ws.files[0].sha256}").exists()

    second = push_weights(tmp_path, first.lock, [bucket.name], client=client)
    assert (second.uploaded, second.present, second.bytes_uploaded) == (0, 2, 0)
    assert second.lock == first.lock

    manifest = manifest_for(first.lock)
    assert [f["dest"] for f in manifest["files"]] == ["/src/w/big.bin", "/src/w/dup.json", "/src/w/small.json"]
    root = tmp_path / "container"
    for f in manifest["files"]:
        f["dest"] = str(root) + f["dest"]
    (tmp_path / "weights.json").write_text(json.dumps(manifest))
    pull_weights(tmp_path / "weights.json", lambda _m: None, cache_dir=tmp_path / "cache")
    assert (root / "src/w/big.bin").read_bytes() == big
    assert (root / "src/w/dup.json").read_bytes() == b"{}"


def test_push_refuses_a_file_changed_since_lock(gcs, tmp_path: Path) -> None:
    client, bucket = gcs
    ws = runtime_set(tmp_path, {"a.bin": b"locked"})
    (tmp_path / "w/a.bin").write_bytes(b"edited")
    with pytest.raises(WeightsError, match="changed since it was locked"):
        push_weights(tmp_path, make_lock(ws), [bucket.name], client=client)


def test_missing_bucket_is_a_clear_error(gcs, tmp_path: Path) -> None:
    client, _bucket = gcs
    ws = runtime_set(tmp_path, {"a.bin": b"x"})
    with pytest.raises(WeightsError, match="not found") as err:
        push_weights(tmp_path, make_lock(ws), ["no-such-bucket-here"], client=client)
    assert "gs://no-such-bucket-here" in str(err.value)


def test_no_bucket_configured(tmp_path: Path) -> None:
    ws = runtime_set(tmp_path, {"a.bin": b"x"})
    with pytest.raises(WeightsError, match="(?s)no bucket .*--bucket"):
        push_weights(tmp_path, make_lock(ws), [None], client=object())


def test_bucket_without_permission(tmp_path: Path, http_server, monkeypatch: pytest.MonkeyPatch) -> None:
    url, _rec = http_server(forbidden)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
    ws = runtime_set(tmp_path, {"a.bin": b"x"})
    with pytest.raises(WeightsError, match="permission denied") as err:
        push_weights(tmp_path, make_lock(ws), ["private-bucket"])
    assert "gs://private-bucket" in str(err.value) and "fix:" in err.value.message


def test_cli_push_records_locations_in_lock_json(gcs, tmp_path: Path) -> None:
    _client, bucket = gcs
    (tmp_path / "cog.yaml").write_text(yaml.safe_dump({
        "build": {"python_version": "3.11"}, "predict": "predict.py:Predictor",
        "weights": [{"src": "w", "dest": "/src/w", "mode": "runtime", "bucket": bucket.name}]}))
    (tmp_path / "predict.py").write_text("")
    (tmp_path / "w").mkdir()
    (tmp_path / "w/a.bin").write_bytes(b"weights!")
    config = load_config(tmp_path)
    sets = lock_weights(config, tmp_path, None)
    lock = make_lock(*sets).model_copy(update={"input_hash": input_hash(config, tmp_path),
                                               "runtime": Runtime(version="0", sha256=runtime_digest())})
    write_lock(tmp_path, lock)

    result = CliRunner().invoke(cli, ["weights", "push", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1 uploaded, 0 already present, 8 bytes sent" in result.output
    after = read_lock(tmp_path)
    assert after.input_hash == lock.input_hash
    assert after.weights[0].files[0].location == f"gs://{bucket.name}/sha256/{sets[0].files[0].sha256}"

    result = CliRunner().invoke(cli, ["weights", "push", str(tmp_path)])
    assert result.exit_code == 0 and "0 uploaded, 1 already present, 0 bytes sent" in result.output

    result = CliRunner().invoke(cli, ["weights", "push", str(tmp_path), "--bucket", "missing-bucket"])
    assert result.exit_code == 1 and "error: gs://missing-bucket" in result.output
