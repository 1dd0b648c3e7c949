"""The runtime entry: cognix's own runtime (and its `cog` shim) placed in the image's site-packages."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from cognix.lock.model import PythonLayout

# The .pth file that makes `import cog` find the shim in every Python process of the image (the shim answers only
# when no other `cog` is importable: see cognix/runtime/_cog_finder.py). It ships in cognix/runtime, so the lock's
# runtime digest covers it, and is copied to the top of site-packages, where the interpreter's site module reads it.
PTH_SOURCE = "cognix/runtime/cognix-cog-shim.pth"
PTH_NAME = "cognix-cog-shim.pth"
TREE_FORMAT = b"runtime tree 2: cognix/** and the cog shim's .pth\n"  # bump when build_runtime_tree changes


def runtime_files() -> list[tuple[str, Path]]:
    """(path relative to site-packages, source file), from the lock stage's runtime pin."""
    from cognix.lock.runtime_pin import runtime_files as pinned

    return sorted(pinned())


def runtime_key(files: list[tuple[str, Path]]) -> str:
    digest = hashlib.sha256(TREE_FORMAT)
    for rel, src in files:
        digest.update(rel.encode() + b"\0" + hashlib.sha256(src.read_bytes()).hexdigest().encode() + b"\n")
    return digest.hexdigest()


def build_runtime_tree(tree: Path, files: list[tuple[str, Path]], layout: PythonLayout) -> None:
    site = tree / layout.site_packages.lstrip("/")
    for rel, src in files:
        target = site / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        target.chmod(0o644)
        if rel == PTH_SOURCE:
            pth = site / PTH_NAME
            shutil.copyfile(src, pth)
            pth.chmod(0o644)
