"""Started like a Cog image: `cog predict IMAGE` and `cog train IMAGE`, emulated from the Cog CLI's source.

Cog's CLI (pkg/cli/predict.go, train.go, serve.go and pkg/predict) runs the image with its own command,
`python --check-hash-based-pycs never -m cog.server.http --await-explicit-shutdown true`, adding `--x-mode train`
for training, posts the inputs, and ends the container with POST /shutdown. A cognix image must answer the same.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import dockerkit
import httpx
import pytest

from cognix.engines.native.build import build
from cognix.lock import lock_model, write_lock

MODEL = Path(__file__).resolve().parents[2] / "models" / "py313-train"
pytestmark = pytest.mark.slow
COG_SERVER = ["python", "--check-hash-based-pycs", "never", "-m", "cog.server.http", "--await-explicit-shutdown",
              "true"]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory):
    dockerkit.docker_or_skip()
    root = tmp_path_factory.mktemp("cogcli")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COGNIX_CACHE_DIR", str(root / "cache"))
        model = root / "train-model"
        shutil.copytree(MODEL, model, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
        write_lock(model, lock_model(model))
        result = build(model, out=root / "result")
    dockerkit.load(result.result_path)
    yield result.plan.repo_tag
    dockerkit.remove_image(result.plan.repo_tag)


def _ended(cid: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        state = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", cid], capture_output=True,
                               text=True, timeout=30).stdout.strip()
        if state == "false":
            return True
        time.sleep(0.3)
    return False


def test_cog_predict(image: str) -> None:
    with dockerkit.running(image, command=COG_SERVER) as (base, cid):
        dockerkit.wait_ready(base)
        body = httpx.post(f"{base}/predictions", json={"input": {"text": "x"}}, timeout=60).json()
        assert body["status"] == "succeeded", body
        assert body["output"] == "hello x"
        # the CLI ends the container with POST /shutdown and waits for it to exit
        assert httpx.post(f"{base}/shutdown", timeout=10).status_code == 200
        assert _ended(cid, within=30), "the container still runs 30 s after POST /shutdown"


def test_cog_train(image: str) -> None:
    train = [*COG_SERVER, "--x-mode", "train"]
    with dockerkit.running(image, command=train) as (base, _cid):
        health = dockerkit.wait_ready(base)
        assert health["status"] == "READY"
        body = httpx.post(f"{base}/trainings", json={"input": {"prefix": "bonjour"}}, timeout=120).json()
        assert body["status"] == "succeeded", body
        assert body["output"]["weights"]


def test_cog_server_flags_and_shim_in_any_python(image: str) -> None:
    out = subprocess.run(["docker", "run", "--rm", "--entrypoint", "python", image, "-c",
                          "import cog, cog.types; print(cog.__version__, hasattr(cog.types, 'Weights'))"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0.23.1+cognix", "True"]
