"""The runtime entry: cognix's own runtime (and its `cog` shim) placed in the image's site-packages."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from cognix.lock.model import PythonLayout


def runtime_files() -> list[tuple[str, Path]]:
    """(path relative to site-packages, source file), from the lock stage's runtime pin."""
    from cognix.lock.runtime_pin import runtime_files as pinned

    return sorted(pinned())


def runtime_key(files: list[tuple[str, Path]]) -> str:
    digest = hashlib.sha256()
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
