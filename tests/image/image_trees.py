"""Hand-made store trees and small plans for cognix.image tests."""

from __future__ import annotations

import os
from pathlib import Path

from cognix.image.plan import Entry, ImageConfig, ImagePlan, Layer


def make_system_tree(root: Path, *, file_mode: int = 0o644, mtime: int = 1_000_000) -> Path:
    """A tree with nested dirs, plain/exec/setuid files, a symlink, a hard link and odd permissions."""
    (root / "usr" / "lib" / "deep" / "er").mkdir(parents=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "usr" / "bin" / "tool").write_bytes(b"#!/bin/sh\necho tool\n")
    os.chmod(root / "usr" / "bin" / "tool", 0o4755)  # setuid: must be dropped
    (root / "usr" / "lib" / "libx.so.1").write_bytes(b"\x7fELF" + bytes(range(256)) * 9)
    os.chmod(root / "usr" / "lib" / "libx.so.1", file_mode)
    os.symlink("libx.so.1", root / "usr" / "lib" / "libx.so")
    os.link(root / "usr" / "lib" / "libx.so.1", root / "usr" / "lib" / "deep" / "hard")
    (root / "usr" / "lib" / "deep" / "er" / "secret").write_text("s")
    os.chmod(root / "usr" / "lib" / "deep" / "er" / "secret", 0o600)
    os.chmod(root / "usr" / "lib" / "deep" / "er", 0o700)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.utime(os.path.join(dirpath, name), (mtime, mtime), follow_symlinks=False)
    return root


def make_src_tree(root: Path, text: str = "print('hello')\n") -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "predict.py").write_text(text)
    (root / "src" / "cog.yaml").write_text("predict: predict.py:Predictor\n")
    return root


def make_plan(system: Path, src: Path, *, repo_tag: str = "cognix-test-image:latest") -> ImagePlan:
    return ImagePlan(
        layers=[
            Layer(entries=[Entry(name="deb/system", root=str(system), size=0)], comment="deb/system"),
            Layer(entries=[Entry(name="src", root=str(src), size=0)], comment="src"),
        ],
        config=ImageConfig(
            entrypoint=["/usr/bin/tini", "--"],
            cmd=["python", "-m", "cognix.runtime"],
            env=["PYTHONUNBUFFERED=1"],
            user="1000",
            labels={"run.cog.version": "0.1.0", "org.opencontainers.image.title": "test"},
        ),
        repo_tag=repo_tag,
    )
