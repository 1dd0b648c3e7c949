"""Integration: user mistakes and a full disk give a clear error and never a partial ./result."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cognix.cli.main import cli
from cognix.engines.native.build import build
from cognix.errors import CognixError, StoreError
from cognix.lock import lock_model, write_lock

HELLO = Path(__file__).resolve().parents[3] / "examples" / "hello"
pytestmark = pytest.mark.slow


def _copy_hello(dest: Path) -> Path:
    shutil.copytree(HELLO, dest, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
    return dest


def test_unknown_system_package_fails_lock_with_a_suggestion(tmp_path: Path) -> None:
    model = _copy_hello(tmp_path / "hello")
    (model / "cog.yaml").write_text((model / "cog.yaml").read_text().replace(
        'python_version: "3.11"', 'python_version: "3.11"\n  system_packages: [ffmpg]'))
    result = CliRunner().invoke(cli, ["lock", str(model)])
    assert result.exit_code == 1, result.output
    assert "'ffmpg'" in result.output and "did you mean 'ffmpeg'" in result.output
    assert "Traceback" not in result.output
    assert not (model / "lock.json").exists()


@contextlib.contextmanager
def _tiny_tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                                 capture_output=True, timeout=30, check=False)
    except OSError:
        mounted = None
    if mounted is None or mounted.returncode != 0:
        pytest.skip("mounting a tmpfs needs privileges (the unit tests cover ENOSPC with a patched write)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30, check=False)


def test_full_cache_disk_is_a_clear_error_and_keeps_the_old_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _copy_hello(tmp_path / "hello")
    write_lock(model, lock_model(model))
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    build(model)
    old = (model / "result").read_bytes()
    (model / "predict.py").write_text((model / "predict.py").read_text().replace('"!"', '"?"'))
    with _tiny_tmpfs(tmp_path / "tiny", "1m") as tiny:
        monkeypatch.setenv("COGNIX_CACHE_DIR", str(tiny / "cache"))
        with pytest.raises(StoreError) as err:
            build(model)
        assert "No space left on device" in err.value.message and "COGNIX_CACHE_DIR" in err.value.message
        assert str(tiny / "cache") in err.value.message
        assert not [p for p in (tiny / "cache" / "blobs").rglob(".fetch-*")]  # no partial downloads kept
    assert (model / "result").read_bytes() == old
    assert sorted(p.name for p in model.iterdir() if p.name.startswith(".result")) == []


def test_full_output_disk_keeps_the_old_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _copy_hello(tmp_path / "hello")
    write_lock(model, lock_model(model))
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    with _tiny_tmpfs(tmp_path / "out", "1m") as out:
        first = build(model, out=out / "result")
        old = first.result_path.read_bytes()
        filler = out / "filler"
        with open(filler, "wb") as f, contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        (model / "predict.py").write_text((model / "predict.py").read_text().replace('"!"', '"?"'))
        with pytest.raises(CognixError) as err:
            build(model, out=out / "result")
        assert "No space left on device" in err.value.message
        assert (out / "result").read_bytes() == old
        assert sorted(p.name for p in out.iterdir()) == ["filler", "result"]


def test_corrupted_wheel_in_the_cache_is_an_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from cognix.store import cache
    from cognix.store.entries import entries_dir, remove_tree

    model = _copy_hello(tmp_path / "hello")
    write_lock(model, lock_model(model))
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    CliRunner().invoke(cli, ["fetch", str(model)], catch_exceptions=False)
    wheel = json.loads((model / "lock.json").read_text())["cognix"]["wheels"][0]
    blob = cache.blob_path(wheel["sha256"])
    blob.write_bytes(b"\0" * wheel["size"])  # bit rot: same size, other bytes
    if entries_dir().exists():
        remove_tree(entries_dir())
    with pytest.raises(StoreError) as err:
        build(model)
    assert wheel["filename"] in err.value.message and "corrupted" in err.value.message
    assert not (model / "result").exists() and not blob.exists()
    assert build(model).image_id  # the next build downloads it afresh
