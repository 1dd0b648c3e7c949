"""`cognix lock --check` and the summary, on locks written by the tests (no network)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cognix.cli.cmd_lock import summary
from cognix.cli.main import cli
from cognix.config import load_config
from cognix.lock.inputs import input_hash
from cognix.lock.lockfile import write_lock
from cognix.lock.model import Deb, Lock, Runtime, Target, Wheel
from cognix.lock.runtime_pin import runtime_digest
from cognix.lock.target import make_target

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello"


@pytest.fixture
def model(tmp_path) -> Path:
    dest = tmp_path / "hello"
    shutil.copytree(HELLO, dest, ignore=shutil.ignore_patterns("lock.json", "result", "__pycache__"))
    return dest


def make_lock(model_dir: Path) -> Lock:
    config = load_config(model_dir)
    wheels = [Wheel(name=n, version="1.0", filename=f"{n}-1.0-py3-none-any.whl",
                    url=f"https://index.invalid/{n}-1.0-py3-none-any.whl", sha256="ab" * 32, size=10)
              for n in ("anyio", "idna", "starlette")]
    target = make_target("3.11", glibc="2.36", debian_suite="bookworm")
    return Lock(input_hash=input_hash(config, model_dir), target=target,
                config=config.cog_json(), wheels=wheels, runtime=Runtime(version="0.1.0", sha256=runtime_digest()))


def test_check_fresh_then_stale(model):
    write_lock(model, make_lock(model))
    runner = CliRunner()
    fresh = runner.invoke(cli, ["lock", "--check", str(model)])
    assert fresh.exit_code == 0 and "up to date (3 wheels, 0 debs)" in fresh.output
    (model / "cog.yaml").write_text((model / "cog.yaml").read_text().replace("build:\n", "build:\n  gpu: true\n"))
    stale = runner.invoke(cli, ["lock", "--check", str(model)])
    assert stale.exit_code == 1
    assert stale.output.startswith("error: lock.json is stale: cog.yaml/requirements changed")


def test_summary(model):
    lock = make_lock(model)
    deb = Deb(package="tini", version="0.19.0-1", architecture="amd64", filename="pool/main/t/tini/tini.deb",
              url="http://mirror.invalid/debian/pool/main/t/tini/tini.deb", sha256="cd" * 32, size=2 * 1024 * 1024,
              suite="bookworm", release_date="Sat, 11 Jul 2026 10:16:37 UTC")
    gpu_target = Target(**{**lock.target.model_dump(), "gpu": True, "cuda": "12.4", "cudnn": "9"})
    text = summary(lock.model_copy(update={"debs": [deb], "target": gpu_target}))
    assert text.splitlines() == [
        "target: CPython 3.11 (cp311), linux x86_64, glibc 2.36, Debian bookworm, CUDA 12.4, cuDNN 9",
        "wheels: 3 (30 B)",
        "debs: 1 (2.0 MiB)",
        "total download: 2.0 MiB",
    ]


def test_usage_error_exit_2():
    assert CliRunner().invoke(cli, ["lock", "--bogus"]).exit_code == 2


def test_build_frozen_refuses_a_missing_or_stale_lock(model):
    runner = CliRunner()
    missing = runner.invoke(cli, ["build", "--frozen", str(model)])
    assert missing.exit_code == 1 and "there is no lock.json, and --frozen forbids locking" in missing.output
    assert "Traceback" not in missing.output and not (model / "lock.json").exists()
    write_lock(model, make_lock(model))
    (model / "cog.yaml").write_text((model / "cog.yaml").read_text().replace("build:\n", "build:\n  gpu: true\n"))
    stale = runner.invoke(cli, ["build", "--offline", str(model)])
    assert stale.exit_code == 1 and "lock.json is stale (cog.yaml/requirements changed" in stale.output
    assert "--offline forbids locking" in stale.output and not (model / "result").exists()


@pytest.mark.slow
def test_build_without_a_lock_locks_first_and_says_so(model, tmp_path, monkeypatch):
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(cli, ["build", str(model)])
    assert result.exit_code == 0, result.output
    assert "there is no lock.json: locked first (as `cognix lock` does)" in result.output
    assert (model / "lock.json").is_file() and (model / "result").exists()
    again = CliRunner().invoke(cli, ["build", "--frozen", str(model)])
    assert again.exit_code == 0 and "locked first" not in again.output
