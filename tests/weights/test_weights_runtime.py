"""The runtime server pulls `.cog/weights.json` before setup(); a failed pull is SETUP_FAILED naming the file."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from servicekit import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
REPO = Path(__file__).resolve().parents[2]

PREDICT = '''
from pathlib import Path
from cog import BasePredictor

WEIGHTS = Path({dest!r})


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.text = WEIGHTS.read_text()

    def predict(self) -> str:
        return self.text
'''


def serve(model: Path, env: dict[str, str], statuses: tuple[str, ...]) -> dict:
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("COG")}
    full.update({"PORT": str(port), "COG_PREDICT_TYPE_STUB": "predict.py:Predictor", "PYTHONPATH": str(REPO),
                 "COGNIX_GCS_METADATA": "0", **env})
    proc = subprocess.Popen([sys.executable, "-m", "cognix.runtime", "--host", "127.0.0.1"], cwd=model, env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert proc.poll() is None, "the runtime exited"
                try:
                    health = client.get("/health-check").json()
                    if health["status"] in statuses:
                        if health["status"] == "READY":
                            health["output"] = client.post("/predictions", json={"input": {}}).json()["output"]
                        return health
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
            raise AssertionError(f"runtime never reached {statuses}")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def model_with_manifest(tmp_path: Path, bucket: str, data: bytes) -> tuple[Path, Path]:
    model = tmp_path / "model"
    dest = tmp_path / "root/src/weights/w.txt"
    (model / ".cog").mkdir(parents=True)
    (model / "predict.py").write_text(PREDICT.format(dest=str(dest)))
    sha = hashlib.sha256(data).hexdigest()
    (model / ".cog/weights.json").write_text(json.dumps({"version": 1, "files": [
        {"dest": str(dest), "sha256": sha, "size": len(data), "url": f"gs://{bucket}/sha256/{sha}"}]}))
    return model, dest


def test_weights_are_pulled_before_setup(gcs, emulator_url: str, tmp_path: Path) -> None:
    _client, bucket = gcs
    data = b"the locked weights"
    bucket.blob(f"sha256/{hashlib.sha256(data).hexdigest()}").upload_from_string(data)
    model, dest = model_with_manifest(tmp_path, bucket.name, data)
    health = serve(model, {"STORAGE_EMULATOR_HOST": emulator_url, "COGNIX_WEIGHTS_CACHE": str(tmp_path / "cache")},
                   ("READY", "SETUP_FAILED"))
    assert health["status"] == "READY", health
    assert health["output"] == "the locked weights"
    assert dest.read_bytes() == data


def test_a_failed_pull_is_setup_failed_with_the_file_and_cause(gcs, emulator_url: str,
                                                               tmp_path: Path) -> None:
    _client, bucket = gcs
    model, dest = model_with_manifest(tmp_path, bucket.name, b"never uploaded")
    health = serve(model, {"STORAGE_EMULATOR_HOST": emulator_url, "COGNIX_WEIGHTS_CACHE": str(tmp_path / "cache")},
                   ("READY", "SETUP_FAILED"))
    assert health["status"] == "SETUP_FAILED"
    assert str(dest) in health["setup"]["logs"] and "not found (HTTP 404)" in health["setup"]["logs"]
    assert not dest.exists()
