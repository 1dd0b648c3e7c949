"""Locking sdist-only packages (cognix.lock.sources) with a builder stand-in: retries when the backend asks for more
build requirements, the reproducibility note, the dependency check of the built wheel, and what image builds then
do with a wheel whose rebuild differs (cognix.engines.native.sdists.built_wheels)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from cognix.engines.native import sdists as native_sdists
from cognix.errors import LockError, StoreError
from cognix.lock import sources
from cognix.lock.index import IndexConfig
from cognix.lock.model import Lock, Runtime, Sdist, Wheel
from cognix.lock.python import Candidate, SourcePin
from cognix.lock.sources import BuiltWheel, NeedsRequirements, SourceInfo
from cognix.lock.target import make_target
from cognix.store import cache

TARGET = make_target("3.11", glibc="2.36", debian_suite="bookworm")


def _wheel_file(path: Path, requires: list[str], stamp: str = "") -> Path:
    with zipfile.ZipFile(path, "w") as z:
        meta = "Metadata-Version: 2.1\nName: probe\nVersion: 1.0\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
        z.writestr("probe-1.0.dist-info/METADATA", meta)
        z.writestr("probe.py", f"STAMP = {stamp!r}\n")
    return path


class FakeBuilder:
    """Builds by writing a wheel whose content is chosen by the test; records what it was asked."""

    def __init__(self, tmp: Path, *, requires: list[str], stamps: list[str], asks: list[list[str]] = ()) -> None:
        self.tmp, self.requires, self.stamps, self.asks = tmp, requires, list(stamps), list(asks)
        self.calls: list[tuple[list[str], bool]] = []

    def inspect(self, sdist: Sdist) -> SourceInfo:
        return SourceInfo(["setuptools>=40.8.0"], compiles=False)

    def build(self, lock: Lock, name: str, version: str, sdist: Sdist, *, fresh: bool) -> BuiltWheel:
        self.calls.append((list(sdist.build_requires), fresh))
        if self.asks:
            raise NeedsRequirements(self.asks.pop(0))
        path = _wheel_file(self.tmp / f"w{len(self.calls)}.whl", self.requires, self.stamps.pop(0))
        sha = cache.file_sha256(path)
        return BuiltWheel("probe-1.0-py3-none-any.whl", sha, path.stat().st_size, path)


def _build_wheel(name: str, version: str) -> Wheel:
    return Wheel(name=name, version=version, filename=f"{name}-{version}-py3-none-any.whl",
                 url=f"https://index.invalid/{name}-{version}-py3-none-any.whl", sha256="ab" * 32, size=1)


@pytest.fixture
def resolved(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """resolve_wheels stands in for uv: each requirement `name...` resolves to name==1.0; calls are recorded."""
    calls: list[list[str]] = []

    def fake(lines, runtime, target, index, **kw):
        calls.append(list(lines))
        names = sorted({ln.split(">")[0].split("=")[0].split("<")[0].strip() for ln in lines})
        return type("R", (), {"wheels": [_build_wheel(n, "1.0") for n in names]})()

    monkeypatch.setattr(sources, "resolve_wheels", fake)
    return calls


def _lock() -> Lock:
    return Lock(input_hash="0" * 64, target=TARGET, config={}, runtime=Runtime(version="0", sha256="0" * 64))


PIN = SourcePin("probe", "1.0", Candidate("probe-1.0.tar.gz", "https://index.invalid/probe-1.0.tar.gz", "cd" * 32, 10),
                dependencies=["six"], requested=True)


def test_a_reproducible_build_is_locked_with_its_build_requirements(tmp_path, resolved):
    builder = FakeBuilder(tmp_path, requires=["six"], stamps=["same", "same"])
    lock = sources.lock_sources(_lock(), [PIN], index=IndexConfig(), options=[], builder=builder)
    probe = lock.wheel("probe")
    assert probe is not None and probe.sdist is not None and probe.sdist.reproducible and probe.sdist.note is None
    assert probe.sdist.build_requires == ["setuptools==1.0"] and [w.name for w in lock.build_wheels] == ["setuptools"]
    assert [fresh for _, fresh in builder.calls] == [False, True]  # built, then again from a clean build


def test_the_backend_asking_for_more_is_resolved_and_built_again(tmp_path, resolved):
    builder = FakeBuilder(tmp_path, requires=["six"], stamps=["a", "a"], asks=[["cython>=3"]])
    lock = sources.lock_sources(_lock(), [PIN], index=IndexConfig(), options=[], builder=builder)
    assert resolved == [["setuptools>=40.8.0"], ["setuptools>=40.8.0", "cython>=3"]]
    assert lock.wheel("probe").sdist.build_requires == ["cython==1.0", "setuptools==1.0"]
    assert sorted(w.name for w in lock.build_wheels) == ["cython", "setuptools"]


def test_a_backend_that_never_settles_is_a_clear_error(tmp_path, resolved):
    builder = FakeBuilder(tmp_path, requires=[], stamps=[], asks=[["a"], ["b"], ["c"]])
    with pytest.raises(LockError, match="keeps asking for build requirements"):
        sources.lock_sources(_lock(), [PIN], index=IndexConfig(), options=[], builder=builder)


def test_two_different_builds_are_recorded_as_not_reproducible(tmp_path, resolved):
    builder = FakeBuilder(tmp_path, requires=["six"], stamps=["first", "second"])
    probe = sources.lock_sources(_lock(), [PIN], index=IndexConfig(), options=[], builder=builder).wheel("probe")
    assert not probe.sdist.reproducible and probe.sdist.note == "two clean builds differ in probe.py"


def test_a_built_wheel_needing_more_than_was_resolved_is_refused(tmp_path, resolved):
    builder = FakeBuilder(tmp_path, requires=["six", "numpy>=1.20; python_version >= '3.8'", "pywin32; os_name == 'nt'"],
                          stamps=["x", "x"])
    with pytest.raises(LockError) as err:
        sources.lock_sources(_lock(), [PIN], index=IndexConfig(), options=[], builder=builder)
    assert "requires numpy" in err.value.what and "pywin32" not in err.value.what


def test_image_build_refuses_a_rebuild_that_differs_from_the_lock(tmp_path, monkeypatch):
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    other = _wheel_file(tmp_path / "other.whl", [], "rebuilt")
    rebuilt = BuiltWheel("probe-1.0-py3-none-any.whl", cache.file_sha256(other), other.stat().st_size, other)
    monkeypatch.setattr(native_sdists, "build_wheel", lambda *a, **k: rebuilt)
    sdist = Sdist(filename="probe-1.0.tar.gz", url="https://index.invalid/probe-1.0.tar.gz", sha256="cd" * 32, size=10)
    locked = Wheel(name="probe", version="1.0", filename="probe-1.0-py3-none-any.whl", url=sdist.url,
                   sha256="ef" * 32, size=5, sdist=sdist)
    lock = _lock().model_copy(update={"wheels": [locked]})
    with pytest.raises(StoreError, match="not reproducible on this machine"):
        native_sdists.built_wheels(lock)
    # one the lock already marks not reproducible is taken, and the image gets this machine's build
    marked = locked.model_copy(update={"sdist": sdist.model_copy(update={"reproducible": False, "note": "x"})})
    lock2, files = native_sdists.built_wheels(lock.model_copy(update={"wheels": [marked]}))
    assert lock2.wheels[0].sha256 == rebuilt.sha256 and files == {rebuilt.sha256: other}
