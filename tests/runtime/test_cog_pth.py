"""`import cog` and `python -m cog.server.http` in an image: the shim through the .pth file the store's runtime tree
puts in site-packages, and upstream's `cog` winning when the model locks it.

The image's site-packages is simulated with a virtualenv on the runtime's Python (COGNIX_RUNTIME_PYTHON, see
conftest.py) whose site-packages gets build_runtime_tree's files, plus a .pth naming the runtime's dependencies;
the processes run without PYTHONPATH, so `cog` and `cognix` come from that tree alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from cognix.lock.model import PythonLayout
from cognix.store.runtime import PTH_NAME, build_runtime_tree, runtime_files

RUNTIME_PYTHON = os.environ.get("COGNIX_RUNTIME_PYTHON") or sys.executable  # as in conftest.py


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(python: Path, code: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=120, env=_env(),
                          **kwargs)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COG", "PYTHON"))}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(python, site-packages) of a virtualenv holding the runtime tree as an image's site-packages does."""
    root = tmp_path_factory.mktemp("image")
    made = subprocess.run([RUNTIME_PYTHON, "-m", "venv", "--without-pip", str(root / "venv")], capture_output=True,
                          text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    python = root / "venv" / "bin" / "python"
    site = Path(_run(python, "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    deps = subprocess.run([RUNTIME_PYTHON, "-c", "import os, starlette; print(os.path.dirname(os.path.dirname("
                           "starlette.__file__)))"], capture_output=True, text=True, timeout=60).stdout.strip()
    (site / "runtime-deps.pth").write_text(deps + "\n")  # starlette, uvicorn, httpx: a plain path line
    layout = PythonLayout(prefix="/usr", executable=str(python), site_packages=str(site), include="", scripts="")
    build_runtime_tree(Path("/"), runtime_files(), layout)
    return python, site


def test_the_tree_has_the_pth_file(image: tuple[Path, Path]) -> None:
    _, site = image
    assert (site / PTH_NAME).read_text() == "import cognix.runtime._cog_finder\n"
    assert (site / "cognix" / "runtime" / "_shim" / "cog" / "__init__.py").is_file()


def test_import_cog_gives_the_shim_in_any_process(image: tuple[Path, Path], tmp_path: Path) -> None:
    python, site = image
    result = _run(python, "import cog, cognix, sys; print(cog.__file__); print(cognix.__file__); "
                          "print(cog.__version__); from cog.types import Weights; print(sys.meta_path[-1].__name__)",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    cog_file, cognix_file, version, finder = result.stdout.split()
    assert cog_file == str(site / "cognix" / "runtime" / "_shim" / "cog" / "__init__.py")
    assert cognix_file == str(site / "cognix" / "__init__.py") and version.endswith("+cognix")
    assert finder == "CogShimFinder"


def test_upstream_cog_wins_when_the_model_locks_it(image: tuple[Path, Path], tmp_path: Path) -> None:
    python, site = image
    later = tmp_path / "later"  # a site directory read after ours (e.g. Debian's other dist-packages)
    (later / "cog").mkdir(parents=True)
    (later / "cog" / "__init__.py").write_text("__version__ = 'later'\n")
    (site / "zz-later.pth").write_text(f"{later}\n")
    try:
        result = _run(python, "import cog; print(cog.__version__)", cwd=tmp_path)
        assert result.stdout.split() == ["later"], result.stderr
        upstream = site / "cog"  # upstream's wheel, locked by the model, in the same site-packages
        upstream.mkdir()
        (upstream / "__init__.py").write_text("__version__ = '0.16.12'\n")
        try:
            result = _run(python, "import cog; print(cog.__version__, cog.__file__)", cwd=tmp_path)
            assert result.stdout.split() == ["0.16.12", str(upstream / "__init__.py")], result.stderr
        finally:
            shutil.rmtree(upstream)
    finally:
        (site / "zz-later.pth").unlink()


TRAIN = '''
from cog import BaseModel, Input, Path
from cog.types import Weights


class TrainingOutput(BaseModel):
    weights: Path
    steps: int


def train(steps: int = Input(default=2, ge=1), prefix: str = "w") -> TrainingOutput:
    out = Path("/tmp") / f"cognix-pth-{prefix}.bin"
    out.write_bytes(b"w" * steps)
    return TrainingOutput(weights=out, steps=steps)
'''


@pytest.mark.parametrize("from_env", [True, False], ids=["COG_TRAIN_TYPE_STUB", "cog.yaml"])
def test_cog_server_http_train_mode(image: tuple[Path, Path], tmp_path: Path, from_env: bool) -> None:
    """What `cog train IMAGE` runs: Cmd overridden with `python -m cog.server.http --x-mode train`."""
    python, _ = image
    (tmp_path / "train.py").write_text(textwrap.dedent(TRAIN))
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.11"\ntrain: "train.py:train"\n')
    port = free_port()
    env = _env(PORT=str(port), **({"COG_TRAIN_TYPE_STUB": "train.py:train"} if from_env else {}))
    proc = subprocess.Popen([str(python), "-m", "cog.server.http", "--x-mode", "train", "--host", "127.0.0.1",
                             "--threads", "2", "--await-explicit-shutdown", "true"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()
            try:
                if httpx.get(url + "/health-check").json()["status"] == "READY":
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "not ready"
            time.sleep(0.1)
        index = httpx.get(url + "/").json()
        assert index["trainings_url"] == "/trainings" and index["cog_version"] == "0.23.1+cognix"
        response = httpx.post(url + "/trainings", json={"input": {"steps": 3}}, timeout=60)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "succeeded", body
        assert body["output"] == {"weights": "data:application/octet-stream;base64,d3d3", "steps": 3}
        assert httpx.post(url + "/trainings", json={"input": {"steps": 0}}).status_code == 422
        proc.send_signal(signal.SIGTERM)  # ignored: --await-explicit-shutdown
        time.sleep(0.5)
        assert proc.poll() is None
        assert httpx.post(url + "/shutdown").status_code == 200
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cog_server_http_version_flag(image: tuple[Path, Path], tmp_path: Path) -> None:
    python, _ = image
    result = subprocess.run([str(python), "-m", "cog.server.http", "--version"], capture_output=True, text=True,
                            timeout=60, env=_env(), cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("cognix runtime"), result.stderr
