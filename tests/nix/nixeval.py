"""Run Debian's nix-instantiate on this repository's Nix files (pure evaluation, no store writes)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NIX_INSTANTIATE = shutil.which("nix-instantiate")

needs_nix = pytest.mark.skipif(NIX_INSTANTIATE is None, reason="nix-instantiate is not installed (Debian package nix-bin)")


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    # no nixbld group or writable /nix here: keep Nix's state in a temp dir, read-only mode
    env.update(
        NIX_CONFIG="build-users-group =",
        NIX_STATE_DIR=str(tmp / "state"),
        NIX_LOG_DIR=str(tmp / "log"),
        HOME=str(tmp),
    )
    return env


def nix(args: list[str], tmp: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    assert NIX_INSTANTIATE is not None
    proc = subprocess.run(
        [NIX_INSTANTIATE, "--readonly-mode", *args],
        cwd=REPO, env=_env(tmp), text=True, capture_output=True, timeout=120, check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"nix-instantiate {' '.join(args)} failed:\n{proc.stderr}")
    return proc


def nix_eval(expr_or_file: str, tmp: Path, *, is_file: bool = False):
    args = ["--eval", "--strict", "--json"] + ([expr_or_file] if is_file else ["--expr", expr_or_file])
    return json.loads(nix(args, tmp).stdout)


def nix_eval_error(expr: str, tmp: Path) -> str:
    proc = nix(["--eval", "--strict", "--json", "--expr", expr], tmp, check=False)
    assert proc.returncode != 0, f"expected evaluation to fail, got {proc.stdout}"
    return proc.stderr
