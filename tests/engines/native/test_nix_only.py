"""Nix-only models: the native engine refuses them with a clear error, exit 1, and writes no ./result."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cognix.engines.native.build import build
from cognix.engines.nix import nix_only_reason
from cognix.errors import CognixError

EBSYNTH = Path(__file__).resolve().parents[3] / "examples" / "ebsynth-cpu"
pytestmark = pytest.mark.timeout(60)


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    model_dir = tmp_path / "ebsynth-cpu"
    shutil.copytree(EBSYNTH, model_dir, ignore=shutil.ignore_patterns("result", "__pycache__"))
    return model_dir


def test_build_refuses_nix_only_model(model: Path) -> None:
    reason = nix_only_reason(model)
    assert reason is not None
    with pytest.raises(CognixError) as err:
        build(model)
    assert str(err.value) == reason
    assert not (model / "result").exists()


def test_cli_exits_1_without_traceback(model: Path) -> None:
    proc = subprocess.run([str(Path(sys.executable).parent / "cognix"), "build", str(model)], capture_output=True,
                          text=True, timeout=60, cwd=model, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "needs the Nix engine" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout
    assert not (model / "result").exists()
