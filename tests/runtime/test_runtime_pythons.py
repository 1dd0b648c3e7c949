"""Slow: the runtime's core tests on every other CPython 3.8–3.14 found, with the newest dependencies each allows
and, on the oldest and the newest interpreter, with the lower bounds of cognix/runtime/requirements.txt.

Interpreters: COGNIX_TEST_PYTHONS (paths, separated by ':'), else pyenv's builds ($PYENV_ROOT or ~/.pyenv, in
versions/3.*). Each gets a virtualenv with the runtime's requirements (pip, from the configured index), kept in
$COGNIX_TEST_VENVS (default ~/.cache/cognix-test/runtime-venvs) per interpreter and requirement set. Then:
- the conformance suite, the schema CLI and test_python_compat.py run here with COGNIX_RUNTIME_PYTHON set to it
  (the runtime's processes on that Python, the tests on this one), and
- the in-process runtime tests (schema, SDK shim, inputs, validation) run on that Python itself.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO / "cognix" / "runtime" / "requirements.txt"
SUPPORTED = ((3, 8), (3, 14))
# the runtime's processes on the other Python; the tests themselves here (they need the build side too)
CROSS = [
    "tests/runtime/test_conformance.py",
    "tests/runtime/test_python_compat.py",
    "tests/runtime/test_schema.py::test_module_entry_prints_compact_json",
    "tests/runtime/test_sdk.py::test_install_shim_yields_to_an_installed_cog",
    "tests/runtime/test_server_cli.py::test_cog_server_http_entry_point",
    "tests/runtime/test_server_cli.py::test_missing_runner_reference_exits_1",
    "tests/runtime/test_cog_pth.py",
    "tests/runtime/test_nested_outputs.py",
]
# tests that import the runtime in-process and write their models for any Python (the others use 3.10+ syntax in
# their models, or need the build side, which is 3.11+)
IN_PROCESS = [
    "tests/runtime/test_python_compat.py",
    "tests/runtime/test_files.py",
    "tests/runtime/test_validation.py",
    "tests/runtime/test_sdk.py",
    "tests/runtime/test_sdk_inventory.py",
    "tests/runtime/test_nested_outputs.py",
    "tests/runtime/test_sse_stream.py",
    "tests/runtime/test_worker_cancel.py",
]


def _version(python: Path) -> Tuple[int, int, int] | None:
    try:
        out = subprocess.run([str(python), "-c", "import sys; print(*sys.version_info[:3])"], capture_output=True,
                             text=True, timeout=30)
    except OSError:
        return None
    parts = out.stdout.split()
    return (int(parts[0]), int(parts[1]), int(parts[2])) if out.returncode == 0 and len(parts) == 3 else None


def interpreters() -> Dict[str, Path]:
    """'3.8' -> interpreter, for each minor version in SUPPORTED other than this one's (the newest patch found)."""
    listed = os.environ.get("COGNIX_TEST_PYTHONS")
    if listed:
        candidates = [Path(p) for p in listed.split(os.pathsep) if p]
    else:
        root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
        candidates = sorted(root.glob("3.*/bin/python")) if root.is_dir() else []
    found: Dict[Tuple[int, int], Tuple[Tuple[int, int, int], Path]] = {}
    for python in candidates:
        version = _version(python)
        if version is None or not SUPPORTED[0] <= version[:2] <= SUPPORTED[1] or version[:2] == sys.version_info[:2]:
            continue
        if version[:2] not in found or version > found[version[:2]][0]:
            found[version[:2]] = (version, python)
    return {f"{k[0]}.{k[1]}": found[k][1] for k in sorted(found)}


def lowest_requirements() -> List[str]:
    """requirements.txt with each lower bound pinned: `starlette>=0.19.1` -> `starlette==0.19.1`."""
    pins = []
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.\[\]-]+)\s*>=\s*([^,;\s]+)", line)
            pins.append(f"{match.group(1)}=={match.group(2)}" if match else line)
    return pins


def _cases() -> List[Tuple[str, str]]:
    found = list(interpreters())
    cases = [(v, "newest") for v in found]
    for version in dict.fromkeys([found[0], found[-1]] if found else []):
        cases.append((version, "lowest"))
    return cases


CASES = _cases()


def venv_for(version: str, python: Path, deps: str) -> Path:
    """A virtualenv on `python` with the runtime's requirements (newest, or the lower bounds pinned) and pytest."""
    if deps == "lowest":
        requirements = lowest_requirements()
        if tuple(int(p) for p in version.split(".")) < (3, 13):
            requirements.append("pydantic<2")  # old cog locks pydantic 1: its models' schemas must match pydantic 2's
    else:
        requirements = ["-r", str(REQUIREMENTS), "pydantic"]
    requirements += ["pytest", "pytest-timeout"]
    # by content, never by this checkout's path: checkouts side by side share the venvs instead of deleting each
    # other's (below) while they are in use
    named = [r for r in requirements if r != str(REQUIREMENTS)]
    key = hashlib.sha256("\n".join([str(python.resolve()), *named, REQUIREMENTS.read_text()]).encode())
    base = Path(os.environ.get("COGNIX_TEST_VENVS") or Path.home() / ".cache" / "cognix-test" / "runtime-venvs")
    venv = base / f"py{version}-{deps}-{key.hexdigest()[:12]}"
    stamp = venv / "cognix-ready"
    if stamp.exists():
        return venv / "bin" / "python"
    for old in base.glob(f"py{version}-{deps}-*"):  # made for other requirements: not needed again
        shutil.rmtree(old, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    made = subprocess.run([str(python), "-m", "venv", str(venv)], capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, f"python{version} -m venv failed:\n{made.stderr}"
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *requirements],
                         capture_output=True, text=True, timeout=400)
    assert pip.returncode == 0, f"pip install {' '.join(requirements)} on {version} failed:\n{pip.stdout}{pip.stderr}"
    stamp.write_text("\n".join(requirements) + "\n")
    return venv / "bin" / "python"


def _pytest(python: str, args: List[str], env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=400)


def _summary(result: subprocess.CompletedProcess) -> str:
    return result.stdout[-6000:] + result.stderr[-2000:]


def _run_case(version: str, deps: str) -> Tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    python = str(venv_for(version, interpreters()[version], deps))
    env = {k: v for k, v in os.environ.items() if k not in ("COGNIX_RUNTIME_PYTHON", "PYTHONPATH")}
    # PYTHONPATH: the venv has the runtime's requirements, not cognix itself (conftest.py sets it for the server too)
    cross = _pytest(sys.executable, CROSS, {**env, "COGNIX_RUNTIME_PYTHON": python, "PYTHONPATH": str(REPO)})
    # --confcutdir: tests/conftest.py is the build side's (3.11+)
    inside = _pytest(python, [*IN_PROCESS, "--confcutdir", "tests/runtime"], {**env, "PYTHONPATH": str(REPO)})
    return cross, inside


@pytest.fixture(scope="module")
def runs() -> Iterator[Dict[Tuple[str, str], "Future[Tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]]"]]:
    """Every case started at once, two at a time: each suite spends most of its time waiting on its servers (about
    a third of a core), so two side by side halve the wall time without starving the timed cases."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {case: pool.submit(_run_case, *case) for case in CASES}
        yield futures
        for future in futures.values():
            future.cancel()


@pytest.mark.skipif(not CASES, reason="no other CPython 3.8–3.14 found: install them with pyenv "
                    "(~/.pyenv/versions/3.X.Y) or list their paths in COGNIX_TEST_PYTHONS")
@pytest.mark.parametrize(("version", "deps"), CASES or [("none", "none")],
                         ids=[f"{v}-{d}" for v, d in CASES] or ["none"])
def test_runtime_on_python(version: str, deps: str, runs) -> None:
    cross, inside = runs[(version, deps)].result()
    assert cross.returncode == 0, f"runtime on Python {version} ({deps} dependencies):\n{_summary(cross)}"
    assert inside.returncode == 0, f"in-process tests on Python {version} ({deps} dependencies):\n{_summary(inside)}"
