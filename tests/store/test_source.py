"""The model's source tree: .dockerignore semantics and the always-excluded paths."""

from __future__ import annotations

from pathlib import Path

from cognix.store.source import is_excluded, parse_dockerignore, source_files


def _touch(root: Path, *paths: str) -> None:
    for rel in paths:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)


def test_dockerignore_with_negation(tmp_path: Path) -> None:
    _touch(tmp_path, "predict.py", "cog.yaml", "data/a.bin", "data/keep.txt", "notes/x.md", "sub/deep/y.md",
           "lock.json", ".git/HEAD", "pkg/__pycache__/m.pyc", "result", "weights/w.safetensors")
    (tmp_path / ".dockerignore").write_text("# comment\ndata\n!data/keep.txt\n**/*.md\n/weights\n")
    assert source_files(tmp_path) == [".dockerignore", "cog.yaml", "data/keep.txt", "predict.py"]


def test_patterns() -> None:
    rules = parse_dockerignore("*.log\n!important.log\nbuild/\n")
    assert is_excluded("debug.log", rules)
    assert not is_excluded("important.log", rules)
    assert not is_excluded("sub/debug.log", rules)  # `*` does not cross directories
    assert is_excluded("build/out/x", rules)
