"""The runtime's files and digest, as pinned in every lock."""

from __future__ import annotations

import re

from cognix.lock import runtime_pin


def test_runtime_files_layout():
    files = runtime_pin.runtime_files()
    paths = [p for p, _ in files]
    assert paths == sorted(paths)
    assert "cognix/__init__.py" in paths
    assert "cognix/runtime/requirements.txt" in paths
    assert all(p == "cognix/__init__.py" or p.startswith("cognix/runtime/") for p in paths)
    assert not any("__pycache__" in p or p.endswith(".pyc") for p in paths)
    assert all(src.is_file() for _, src in files)


def test_runtime_digest_changes_with_content(tmp_path, monkeypatch):
    pkg = tmp_path / "cognix"
    (pkg / "runtime" / "__pycache__").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "runtime" / "server.py").write_text("A = 1\n")
    (pkg / "runtime" / "__pycache__" / "server.cpython-311.pyc").write_bytes(b"junk")
    (pkg / "store").mkdir()
    (pkg / "store" / "x.py").write_text("")
    monkeypatch.setattr(runtime_pin, "_package_root", lambda: pkg)
    assert [p for p, _ in runtime_pin.runtime_files()] == ["cognix/__init__.py", "cognix/runtime/server.py"]
    first = runtime_pin.runtime_digest()
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    (pkg / "runtime" / "__pycache__" / "server.cpython-311.pyc").write_bytes(b"other junk")
    (pkg / "store" / "x.py").write_text("changed")
    assert runtime_pin.runtime_digest() == first
    (pkg / "runtime" / "server.py").write_text("A = 2\n")
    assert runtime_pin.runtime_digest() != first
