"""`cognix predict`, `cognix serve` and `python -m cog.server.http` (the shim entry point) as real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "examples" / "hello"
SHIM = REPO / "cognix" / "runtime" / "_shim"
MODELS = Path(__file__).parent / "models"
RUNTIME_PYTHON = os.environ.get("COGNIX_RUNTIME_PYTHON") or sys.executable  # as in conftest.py


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cognix(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COG")}
    return subprocess.run(
        [sys.executable, "-c", "from cognix.cli.main import main; main()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, (
            proc.stdout.read() if proc.stdout else proc.returncode
        )
        try:
            health = httpx.get(url + "/health-check").json()
            if health["status"] == "READY":
                return health
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("not ready")


def test_predict_local_writes_files(tmp_path: Path) -> None:
    result = _cognix(
        "predict", str(HELLO), "-i", "name=bob", "-i", "repeat=2", "-o", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert '"greeting": "hello bob! hello bob!"' in result.stdout
    card = tmp_path / "output.card.txt"
    assert "hello bob! hello bob!" in card.read_text()


def test_predict_bad_input_is_a_user_error(tmp_path: Path) -> None:
    result = _cognix("predict", str(HELLO), "-i", "repeat=20", "-o", str(tmp_path))
    assert result.returncode == 1
    assert "repeat: 20 is greater than the maximum of 10" in result.stderr
    assert "Traceback" not in result.stderr


def test_predict_file_input_against_url(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("COG")},
        "PORT": str(port),
        "COG_PREDICT_TYPE_STUB": "predict.py:Predictor",
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.Popen(
        [RUNTIME_PYTHON, "-m", "cognix.runtime", "--host", "127.0.0.1"],
        cwd=MODELS / "basic",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}", proc)
        (tmp_path / "in.txt").write_text("from disk")
        result = _cognix(
            "predict",
            "--url",
            f"http://127.0.0.1:{port}",
            "-i",
            f"file=@{tmp_path / 'in.txt'}",
            "-i",
            "n=2",
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "file:from disk"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


def test_serve_reads_cog_yaml_and_stops_on_sigterm() -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COG")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from cognix.cli.main import main; main()",
            "serve",
            str(HELLO),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}", proc)
        out = httpx.post(
            f"http://127.0.0.1:{port}/predictions", json={"input": {"name": "x"}}
        ).json()
        assert out["output"]["greeting"] == "hello x!"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


def test_cog_server_http_entry_point() -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COG")}
    env.update(
        PORT=str(port),
        COG_PREDICT_TYPE_STUB="predict.py:Predictor",
        PYTHONPATH=os.pathsep.join([str(REPO), str(SHIM)]),
    )
    proc = subprocess.Popen(
        [
            RUNTIME_PYTHON,
            "-m",
            "cog.server.http",
            "--host",
            "127.0.0.1",
            "--threads",
            "4",
        ],
        cwd=HELLO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        health = _wait_ready(f"http://127.0.0.1:{port}", proc)
        assert health["version"]["python_sdk"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


def test_missing_runner_reference_exits_1(tmp_path: Path) -> None:
    # neither COG_PREDICT_TYPE_STUB nor a cog.yaml naming the runner (Cog's server read it from there, too)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COG")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [RUNTIME_PYTHON, "-m", "cognix.runtime"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 1 and "COG_PREDICT_TYPE_STUB" in result.stderr
