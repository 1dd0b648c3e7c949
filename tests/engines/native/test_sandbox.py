"""The bubblewrap sandbox that runs the schema step, build.run and sdist builds: what the code inside can't do."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cognix.engines.native.sandbox import run_in_tree


def _tree(tmp_path: Path) -> Path:
    """The host's sh, cat and id with the libraries they load, in an empty tree."""
    tree = tmp_path / "tree"
    for tool in ("sh", "cat", "id"):
        path = Path(shutil.which(tool) or pytest.skip(f"no {tool} on this machine")).resolve()
        for dep in [path, *(Path(line.split()[-2] if "=>" in line else line.split()[0]) for line in
                            subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout.splitlines()
                            if "/" in line)]:
            dest = tree / str(dep).lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(dep, dest)
        (tree / "bin").mkdir(exist_ok=True)
        if not (tree / "bin" / tool).exists():
            (tree / "bin" / tool).symlink_to(path)
    for link, target in (("lib64", "usr/lib64"),):
        if not (tree / link).exists() and (tree / target).exists():
            (tree / link).symlink_to(target)
    return tree


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    return _tree(tmp_path)


def _sh(tree: Path, script: str, **kw) -> subprocess.CompletedProcess[bytes]:
    return run_in_tree(tree, ["/bin/sh", "-c", script], env={"PATH": "/bin"}, timeout=30, **kw)


def test_no_network_but_loopback(tree: Path) -> None:
    out = _sh(tree, "cat /proc/net/dev").stdout.decode()
    interfaces = {line.split(":")[0].strip() for line in out.splitlines()[2:]}
    assert interfaces == {"lo"}


def test_read_only_root_and_its_own_hostname(tree: Path) -> None:
    proc = _sh(tree, "echo x > /evil; echo rc=$?; cat /proc/sys/kernel/hostname")
    assert b"rc=0" not in proc.stdout and b"cognix" in proc.stdout
    assert not (tree / "evil").exists()


def test_binds_are_the_only_writable_places_and_stdin_is_closed(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = _sh(tree, "echo made > /build/out/file; umask; cat - ; echo end", binds=[(str(out), "/build/out", True)])
    assert (out / "file").read_text() == "made\n"
    assert proc.stdout.decode().split() == ["0022", "end"]  # the same umask everywhere; nothing on stdin
