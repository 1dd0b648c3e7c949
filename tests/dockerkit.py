"""Run a built image in the real Docker engine for a test: load ./result, start it on 127.0.0.1, always remove it."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest


def docker_or_skip() -> None:
    if shutil.which("docker") is None:
        pytest.skip("docker is not installed")


def load(result: Path) -> None:
    subprocess.run([str(result), "load"], check=True, timeout=600, capture_output=True)


def wait_ready(base: str, timeout: float = 90) -> dict:
    """The health-check body once the runtime says READY (fails the test on SETUP_FAILED or timeout)."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        try:
            body = httpx.get(f"{base}/health-check", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            body = {}
        if body.get("status") in ("READY", "SETUP_FAILED", "DEFUNCT"):
            break
        time.sleep(0.3)
    assert body.get("status") == "READY", body
    return body


@contextlib.contextmanager
def running(tag: str, *args: str, command: Sequence[str] = ()) -> Iterator[tuple[str, str]]:
    """`docker run -d` the image with port 5000 on a free 127.0.0.1 port; yields (base URL, container id).
    args are docker's options (before the image), command replaces the image's Cmd (after it)."""
    cid = subprocess.run(["docker", "run", "-d", "-p", "127.0.0.1::5000", *args, tag, *command],
                         check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    try:
        port = subprocess.run(["docker", "port", cid, "5000"], check=True, capture_output=True, text=True,
                              timeout=30).stdout.split()[0].rsplit(":", 1)[1]
        yield f"http://127.0.0.1:{port}", cid
    except BaseException:
        logs = subprocess.run(["docker", "logs", cid], capture_output=True, text=True, timeout=30, check=False)
        print(f"container logs:\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}")
        raise
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True, timeout=60, check=False)


def exec_python(cid: str, code: str) -> str:
    """stdout of `python -c code` inside the running container."""
    proc = subprocess.run(["docker", "exec", cid, "python", "-c", code], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def remove_image(tag: str) -> None:
    subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120, check=False)
