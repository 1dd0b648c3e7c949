"""Integration: lock and build examples/hello, reproducibly, and run it in Docker."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest

from cognix.engines.native.build import build
from cognix.errors import CognixError, LockError, StoreError
from cognix.image.config import config_bytes, epoch
from cognix.image.layers import layer_infos
from cognix.lock import Lock, lock_model, write_lock

HELLO = Path(__file__).resolve().parents[3] / "examples" / "hello"
pytestmark = pytest.mark.slow


@pytest.fixture()
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:  # per test: the runtime pin must be current
    model_dir = tmp_path_factory.mktemp("m") / "hello"
    shutil.copytree(HELLO, model_dir, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
    write_lock(model_dir, lock_model(model_dir))
    return model_dir


def _diff_ids(plan) -> list[str]:
    return [i.diff_id for i in layer_infos(plan.layers, epoch(plan.created))]


def test_reproducible_from_empty_caches(model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = []
    for n in range(2):
        monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / f"cache{n}"))
        ids.append(build(model, out=tmp_path / f"result{n}").image_id)
    assert ids[0] == ids[1]


def test_edit_changes_only_last_layer(model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    edited = tmp_path / "hello"
    shutil.copytree(model, edited)
    first = build(edited, out=tmp_path / "r1").plan
    (edited / "predict.py").write_text((edited / "predict.py").read_text().replace('"!"', '"?"'))
    second = build(edited, out=tmp_path / "r2").plan
    a, b = _diff_ids(first), _diff_ids(second)
    assert len(a) == len(b) and a[:-1] == b[:-1] and a[-1] != b[-1]


def test_bad_inputs_leave_no_result(model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    broken = tmp_path / "nolock"
    shutil.copytree(model, broken, ignore=shutil.ignore_patterns("lock.json", "result"))
    with pytest.raises(LockError, match="cognix lock"):
        build(broken)
    (broken / "lock.json").write_text((model / "lock.json").read_text())
    (broken / "cog.yaml").write_text((broken / "cog.yaml").read_text().replace(
        'python_version: "3.11"', 'python_version: "3.11"\n  system_packages: ["curl"]'))
    with pytest.raises(LockError, match="stale"):
        build(broken)
    (broken / "cog.yaml").write_text((model / "cog.yaml").read_text())
    data = json.loads((model / "lock.json").read_text())
    wheel = data["cognix"]["wheels"][0]
    wheel["sha256"] = "0" * 64
    (broken / "lock.json").write_text(json.dumps(data, sort_keys=True, indent=2) + "\n")
    with pytest.raises(LockError, match="not as `cognix lock` wrote it"):  # a hand edit: refused before any download
        build(broken)
    # a lock as cognix writes it, but what the index serves no longer matches it
    write_lock(broken, Lock.model_validate(data["cognix"]))
    with pytest.raises(StoreError, match="sha256 mismatch"):
        build(broken)
    assert not (broken / "result").exists()


def _data_url_text(url: str) -> str:
    meta, _, data = url.partition(",")
    return base64.b64decode(data).decode() if meta.endswith(";base64") else urllib.parse.unquote(data)


def test_docker_run_predicts(model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("docker") is None:
        pytest.skip("docker is not installed")
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    result = build(model, out=tmp_path / "result")  # the default non-root user `cog` (tempfile needs /tmp 1777)
    assert result.plan.config.user == "cog"
    subprocess.run([str(result.result_path), "load"], check=True, timeout=300, capture_output=True)
    cid = subprocess.run(["docker", "run", "-d", "-p", "127.0.0.1::5000", result.plan.repo_tag],
                         check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    try:
        port = subprocess.run(["docker", "port", cid, "5000"], check=True, capture_output=True, text=True,
                              timeout=30).stdout.split()[0].rsplit(":", 1)[1]
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"{base}/health-check", timeout=2).json().get("status")
            except httpx.HTTPError:
                status = None
            if status == "READY":
                break
            time.sleep(0.3)
        assert status == "READY"
        response = httpx.post(f"{base}/predictions", json={"input": {"name": "test", "repeat": 2}}, timeout=60)
        body = response.json()
        assert body["status"] == "succeeded", body
        assert body["output"]["greeting"] == "hello test! hello test!"
        card = body["output"]["card"]  # the file output, written under /tmp by the non-root user
        assert card.startswith("data:") and "hello test! hello test!" in _data_url_text(card)
        user = subprocess.run(["docker", "inspect", "-f", "{{.Config.User}}", cid], capture_output=True, text=True,
                              timeout=30, check=True).stdout.strip()
        ids = subprocess.run(["docker", "exec", cid, "python", "-c", "import os; print(os.getuid(), os.getgid())"],
                             capture_output=True, text=True, timeout=30, check=False)
        assert user == "cog" and ids.stdout.split() == ["1000", "1000"], (user, ids)
        # the model directory, HOME and its caches are the user's, as /src is root's (and root's alone) under Cog
        writes = subprocess.run(["docker", "exec", cid, "python", "-c",
                                 "import os; open('/src/out.txt', 'w').write('x'); os.makedirs('hub');"
                                 "os.makedirs(os.path.expanduser('~/.cache/huggingface')); print('ok')"],
                                capture_output=True, text=True, timeout=30, check=False)
        assert writes.stdout.strip() == "ok", writes.stderr
        tini = subprocess.run(["docker", "exec", cid, "python", "-c", "import os; print(os.path.realpath('/sbin/tini'))"],
                              capture_output=True, text=True, timeout=30, check=False)
        assert tini.stdout.strip() == "/usr/bin/tini"
        labels = json.loads(subprocess.run(["docker", "inspect", "-f", "{{json .Config.Labels}}", cid],
                                           capture_output=True, text=True, timeout=30, check=True).stdout)
        freeze = labels["run.cog.pip_freeze"].splitlines()
        assert any(line.startswith("starlette==") for line in freeze) and freeze == sorted(freeze, key=str.lower)
        assert labels["run.cog.version"] == "0.23.1"
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True, timeout=60, check=False)


def test_non_ascii_text_is_written_as_utf8(model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the Nix engine (builtins.toJSON, jq -S) keeps UTF-8: escaping it here would give the same model two image IDs
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    (model / "predict.py").write_text((model / "predict.py").read_text().replace('"Who to greet"',
                                                                                 '"Who to greet, in °C"'))
    result = build(model, out=tmp_path / "result")
    label = result.plan.config.labels["run.cog.openapi_schema"]
    assert "in °C" in label and "\\u00b0" not in label
    config = config_bytes(result.plan, _diff_ids(result.plan))
    assert "in °C".encode() in config and b"\\u00b0" not in config and b"\\\\u00b0" not in config


def test_an_edited_store_tree_never_reaches_the_image(model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    first = build(model, out=tmp_path / "r1")
    runtime = next(e for layer in first.plan.layers for e in layer.entries if e.name == "runtime")
    victim = next(Path(runtime.root).rglob("*.py"))
    victim.write_text(victim.read_text() + "\nprint('injected')\n")
    again = build(model, out=tmp_path / "r2")
    assert again.image_id == first.image_id
    assert "injected" not in victim.read_text()
    assert "warning: the store's tree for runtime" in capsys.readouterr().err


def test_source_date_epoch_sets_the_image_time(model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    default = build(model, out=tmp_path / "r0")
    assert default.plan.created == "1970-01-01T00:00:01Z"
    ids = {}
    for stamp in ("1700000000", "1800000000"):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", stamp)
        ids[stamp] = build(model, out=tmp_path / f"r{stamp}").image_id
        assert build(model, out=tmp_path / f"again{stamp}").image_id == ids[stamp]  # still reproducible
    assert len({default.image_id, *ids.values()}) == 3
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    plan = build(model, out=tmp_path / "r").plan
    assert plan.created == "2027-01-15T08:00:00Z" and epoch(plan.created) == 1800000000
    assert plan.config.labels["org.opencontainers.image.created"] == "2027-01-15T08:00:00Z"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(CognixError, match="SOURCE_DATE_EPOCH='yesterday' is not a time"):
        build(model, out=tmp_path / "bad")
