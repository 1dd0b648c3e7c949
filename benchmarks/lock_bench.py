"""`cognix lock` speed for a 10-package model, cold (empty cognix and uv caches) and warm, beside baselines from
the same run: uv's own resolution of the same requirements (cold and warm uv cache), and a plain download of the
Debian indexes the lock reads.

Usage: python benchmarks/lock_bench.py [--runs N]     (needs the package index and the Debian mirror)
Targets: cold <= 10 s, warm <= 2 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from cognix.lock.debian import family_sources
from cognix.lock.debian.index import fetch_release
from cognix.lock.python import uv_bin

HELLO = Path(__file__).resolve().parents[1] / "examples" / "hello"
REQUIREMENTS = ["numpy", "pillow", "requests", "pydantic", "tqdm", "pyyaml", "click", "rich", "regex", "attrs"]


def _model(root: Path) -> Path:
    model = root / "ten"
    shutil.copytree(HELLO, model, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
    (model / "requirements.txt").write_text("".join(f"{r}\n" for r in REQUIREMENTS))
    text = (model / "cog.yaml").read_text().replace('python_version: "3.11"',
                                                    'python_version: "3.11"\n  python_requirements: requirements.txt')
    (model / "cog.yaml").write_text(text)
    return model


def _timed(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv[:3])} failed:\n{proc.stderr[-2000:]}")
    return time.monotonic() - start


def _debian_download() -> float:
    """Fetch bookworm's Release files and Packages indexes (what a cold lock downloads), nothing else."""
    start = time.monotonic()
    with httpx.Client(timeout=60) as client:
        for source in family_sources("bookworm"):
            release = fetch_release(source)
            for path in [p for p in release.files if p == "main/binary-amd64/Packages.gz"]:
                client.get(f"{source.uri}/dists/{source.suite}/{path}").raise_for_status()
    return time.monotonic() - start


def one_run(root: Path) -> dict[str, float]:
    model = _model(root)
    env = dict(os.environ, COGNIX_CACHE_DIR=str(root / "cognix-cache"), UV_CACHE_DIR=str(root / "uv-cache"))
    cognix = [str(Path(sys.executable).parent / "cognix"), "lock", str(model)]
    figures = {"cold": _timed(cognix, env), "warm": _timed(cognix, env)}
    uv_env = dict(os.environ, UV_CACHE_DIR=str(root / "uv-only-cache"), UV_NO_PROGRESS="1")
    uv = [uv_bin(), "pip", "compile", "--no-config", "--python-version", "3.11", "--python-platform",
          "x86_64-manylinux_2_36", "--only-binary", ":all:", "--quiet", str(model / "requirements.txt")]
    figures["uv cold"] = _timed(uv, uv_env)
    figures["uv warm"] = _timed(uv, uv_env)
    figures["debian download"] = _debian_download()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    rows = []
    for _ in range(runs):
        root = Path(tempfile.mkdtemp(prefix="cognix-lock-bench-"))
        try:
            rows.append(one_run(root))
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print(f"10-package model ({', '.join(REQUIREMENTS)}), python 3.11, {runs} runs")
    print(f"{'figure':<34} {'runs (s)':<28} {'target':>8}   baseline in the same runs")
    cold = ", ".join(f"{r['cold']:.2f}" for r in rows)
    warm = ", ".join(f"{r['warm']:.2f}" for r in rows)
    base_cold = ", ".join(f"{r['uv cold']:.2f}+{r['debian download']:.2f}" for r in rows)
    base_warm = ", ".join(f"{r['uv warm']:.2f}" for r in rows)
    print(f"{'cognix lock, cold caches':<34} {cold:<28} {'<= 10 s':>8}   uv alone + Debian index download: {base_cold}")
    print(f"{'cognix lock, warm caches':<34} {warm:<28} {'<= 2 s':>8}   uv alone, warm: {base_warm}")


if __name__ == "__main__":
    main()
