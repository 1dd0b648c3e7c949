"""Integration: the outputs of a hello build — registry push, OCI layout, path-info, offline inputs."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cognix.cli.main import cli
from cognix.engines.native.build import build
from cognix.image.registry import push
from cognix.lock import lock_model, write_lock

HELLO = Path(__file__).resolve().parents[3] / "examples" / "hello"
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    model_dir = tmp_path / "hello"
    shutil.copytree(HELLO, model_dir, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
    write_lock(model_dir, lock_model(model_dir))
    return model_dir


def test_second_push_uploads_only_changed_layer_and_config(model: Path, local_registry: str, tmp_path: Path) -> None:
    ref = f"{local_registry}/hello:1"
    first = build(model, out=tmp_path / "r1")
    out = subprocess.run([str(first.result_path), "push", ref], capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    assert f"Pushed {ref}@sha256:" in out.stdout and "0 already there" in out.stdout

    (model / "predict.py").write_text((model / "predict.py").read_text().replace('"!"', '"?"'))
    second = build(model, out=tmp_path / "r2")
    assert second.image_id != first.image_id
    summary = push(second.plan, ref)
    assert len(summary.uploaded) == 2, summary  # the src layer, then the config
    assert len(summary.skipped) == len(second.plan.layers) - 1

    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")
    inspect = subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{ref}"],
                             capture_output=True, text=True, timeout=120, check=False)
    assert inspect.returncode == 0, inspect.stderr
    info = json.loads(inspect.stdout)
    assert info["Digest"] == summary.manifest_digest
    assert len(info["Layers"]) == len(second.plan.layers)
    assert summary.uploaded[0] == info["Layers"][-1]  # the changed layer is the last one
    assert "run.cog.openapi_schema" in info["Labels"]


def test_oci_layout_accepted_by_skopeo_and_umoci(model: Path, tmp_path: Path) -> None:
    if shutil.which("skopeo") is None or shutil.which("umoci") is None:
        pytest.skip("skopeo and umoci are needed")
    layout = tmp_path / "oci"
    result = CliRunner().invoke(cli, ["build", str(model), "--oci-layout", str(layout), "-o", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    index = json.loads((layout / "index.json").read_text())
    tag = index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]
    inspect = subprocess.run(["skopeo", "inspect", f"oci:{layout}:{tag}"], capture_output=True, text=True,
                             timeout=120, check=False)
    assert inspect.returncode == 0, inspect.stderr
    labels = json.loads(inspect.stdout)["Labels"]
    assert json.loads(labels["run.cog.config"])["predict"] == "predict.py:Predictor"
    bundle = tmp_path / "bundle"
    unpack = subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{layout}:{tag}", str(bundle)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert unpack.returncode == 0, unpack.stderr
    rootfs = bundle / "rootfs"
    assert (rootfs / "src/predict.py").read_bytes() == (model / "predict.py").read_bytes()
    assert (rootfs / "usr/bin/python3").exists() or (rootfs / "usr/bin/python3").is_symlink()
    runtime_config = json.loads((bundle / "config.json").read_text())
    assert runtime_config["process"]["cwd"] == "/src"


def test_path_info_json_and_text(model: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["path-info", str(model), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    rows = info["entries"]
    names = [r["name"] for r in rows]
    assert names == sorted(names)
    assert {"runtime", "src", "system"} <= set(names) and any(n.startswith("deb/python3.11") for n in names)
    by_name = {r["name"]: r for r in rows}
    for row in rows:
        assert row["closure_size"] >= row["size"] >= 0
    # the interpreter's closure includes libc's size
    libc = next(r for n, r in by_name.items() if n.startswith("deb/libc6_"))
    python = next(r for n, r in by_name.items() if n.startswith("deb/python3.11-minimal_"))
    assert python["closure_size"] >= python["size"] + libc["size"]
    assert info["total_size"] == sum(r["size"] for r in rows)
    assert 0 < info["total_size"] <= 70 * 1024 * 1024  # the size target for hello
    text = runner.invoke(cli, ["path-info", str(model)])
    assert text.exit_code == 0, text.output
    lines = text.output.strip().splitlines()
    assert [line.split()[0] for line in lines[:-1]] == names
    assert lines[-1].startswith(f"total ({info['layers']} layers)")


def test_fetch_export_import_offline(model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    fetched = runner.invoke(cli, ["fetch", str(model)])
    assert fetched.exit_code == 0, fetched.output
    count = int(fetched.output.split()[0])
    lock = json.loads((model / "lock.json").read_text())["cognix"]
    setup = [d for d in lock["build_debs"] if d["package"] == "libc-bin"]  # the image setup's ldconfig
    assert len(setup) == 1 and count == len(lock["debs"]) + len(lock["wheels"]) + len(setup)
    online = build(model, out=tmp_path / "r1")

    inputs = tmp_path / "inputs"
    exported = runner.invoke(cli, ["export-inputs", str(inputs), "--model", str(model)])
    assert exported.exit_code == 0, exported.output
    assert sorted(p.name for p in inputs.iterdir()) == sorted(d["sha256"] for d in lock["debs"] + lock["wheels"]
                                                              + setup)

    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "empty-cache"))
    offline_fail = runner.invoke(cli, ["build", str(model), "--offline", "-o", str(tmp_path / "r0")])
    assert offline_fail.exit_code == 1 and "--offline" in offline_fail.output
    assert not (tmp_path / "r0").exists()
    imported = runner.invoke(cli, ["import-inputs", str(inputs)])
    assert imported.exit_code == 0, imported.output
    assert imported.output.startswith(f"{count} inputs imported")

    def no_network(*_a, **_k):
        raise AssertionError("an offline build touched the network")

    monkeypatch.setattr(httpx.Client, "send", no_network)
    offline = build(model, out=tmp_path / "r2", offline=True)
    assert offline.image_id == online.image_id


def test_import_rejects_a_corrupted_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cognix.errors import StoreError

    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / ("ab" * 32)).write_bytes(b"not what that hash names")
    result = CliRunner().invoke(cli, ["import-inputs", str(inputs)])
    assert result.exit_code == 1
    assert isinstance(result.exception, (SystemExit, StoreError))
    assert "sha256 mismatch" in result.output
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))
