"""cognix's runtime as shipped in images: its files and one digest over them, pinned in every lock."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cognix


def _package_root() -> Path:
    return Path(cognix.__file__).resolve().parent


def runtime_files() -> list[tuple[str, Path]]:
    """(path relative to the image's site-packages, source file) for cognix/__init__.py and cognix/runtime/**."""
    root = _package_root()
    files = [root / "__init__.py"] + [
        p for p in (root / "runtime").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    ]
    pairs = [(("cognix/" + p.relative_to(root).as_posix()), p) for p in files]
    return sorted(pairs)


def runtime_digest() -> str:
    """sha256 over sorted "path sha256(content)" lines of `runtime_files()`."""
    lines = "".join(
        f"{rel} {hashlib.sha256(src.read_bytes()).hexdigest()}\n" for rel, src in runtime_files()
    )
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()
