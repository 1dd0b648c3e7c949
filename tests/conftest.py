"""Fixtures shared by every stage's tests: real local services on 127.0.0.1."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from servicekit import free_port, running_service


@pytest.fixture
def local_registry(tmp_path: Path) -> Iterator[str]:
    """Debian's docker-registry on 127.0.0.1:<free port>, storing in tmp; yields "127.0.0.1:PORT"."""
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    if not Path(binary).exists():
        pytest.fail("docker-registry is not installed (Debian package docker-registry; scripts/setup installs it)")
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp_path / 'registry-data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    with running_service([binary, "serve", str(config)], f"http://127.0.0.1:{port}/v2/", tmp_path / "registry.log",
                         name="docker-registry", timeout=20):
        yield f"127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def _no_pytorch_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests send traffic to 127.0.0.1 only: the PyTorch index (probed when a model lists torch) is a dead local
    port unless a test serves one itself (it then sets COGNIX_TORCH_INDEX_URL or passes torch_index=)."""
    monkeypatch.setenv("COGNIX_TORCH_INDEX_URL", f"http://127.0.0.1:{free_port()}/whl")
