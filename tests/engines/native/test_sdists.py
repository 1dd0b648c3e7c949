"""Wheels built from source distributions: reading sdists, the sandboxed build, reproducibility, clear failures.

The slow tests serve two sdists of their own from a find-links page on 127.0.0.1 (a pure-Python one, and a C
extension that links libzstd) and resolve everything else from the real package index and Debian mirror.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import dockerkit
import pytest
from sdistkit import C_EXT, PURE, sdist as _sdist
from servicekit import static_files

from cognix.engines.native.build import build
from cognix.engines.native.sdists import missing_in
from cognix.errors import LockError
from cognix.lock import lock_model, write_lock
from cognix.lock.sources import Missing, differing_members

HELLO = Path(__file__).resolve().parents[3] / "examples" / "hello"


def test_missing_things_are_read_from_build_logs() -> None:
    log = "\n".join([
        "cprobe.c:2:10: fatal error: zstd.h: No such file or directory",
        "Package 'pangocairo' was not found",
        "Package cairo was not found in the pkg-config search path.",
        "No package 'libffi' found",
        "/usr/bin/ld: cannot find -lsndfile: No such file or directory",
        "/bin/sh: 1: cmake: not found",
        "error: command 'gfortran' failed: No such file or directory",
        "cprobe.c:2:10: fatal error: zstd.h: No such file or directory",  # repeats are reported once
    ])
    assert missing_in(log) == [Missing("header", "zstd.h"), Missing("pkg-config", "pangocairo"),
                               Missing("pkg-config", "cairo"), Missing("pkg-config", "libffi"),
                               Missing("library", "sndfile"), Missing("command", "cmake"),
                               Missing("command", "gfortran")]
    assert Missing("header", "pango/pango.h").pattern().fullmatch("usr/include/pango-1.0/pango/pango.h")
    assert Missing("library", "zstd").pattern().fullmatch("usr/lib/x86_64-linux-gnu/libzstd.so")
    assert Missing("pkg-config", "cairo").pattern().fullmatch("usr/lib/x86_64-linux-gnu/pkgconfig/cairo.pc")


def test_differing_members(tmp_path: Path) -> None:
    def wheel(path: Path, content: bytes, when: tuple) -> Path:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(zipfile.ZipInfo("probe.py", date_time=when), content)
            z.writestr(zipfile.ZipInfo("probe-1.0.dist-info/RECORD", date_time=when), content)
        return path

    a = wheel(tmp_path / "a.whl", b"x", (1980, 1, 1, 0, 0, 0))
    assert differing_members(a, wheel(tmp_path / "b.whl", b"y", (1980, 1, 1, 0, 0, 0))) == ["probe.py"]
    assert differing_members(a, wheel(tmp_path / "c.whl", b"x", (2026, 1, 1, 0, 0, 0))) == ["probe.py"]


# --- real builds --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def links(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("links")
    _sdist(root / "probe-1.0.tar.gz", PURE)
    _sdist(root / "cprobe-1.0.tar.gz", C_EXT, top="cprobe-1.0")
    (root / "index.html").write_text("<html><body>" + "".join(
        f'<a href="{n}">{n}</a>' for n in ("probe-1.0.tar.gz", "cprobe-1.0.tar.gz")) + "</body></html>")
    with static_files(root) as (base, _requests):
        yield base + "/"


def _model(root: Path, links_url: str, packages: list[str], system_packages: list[str] = ()) -> Path:
    model = root / "m"
    shutil.copytree(HELLO, model, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
    (model / "requirements.txt").write_text(f"--find-links {links_url}\n" + "".join(f"{p}\n" for p in packages))
    system = "".join(f"    - {p}\n" for p in system_packages)
    (model / "cog.yaml").write_text((model / "cog.yaml").read_text().replace(
        "build:\n", "build:\n  python_requirements: requirements.txt\n" +
        (f"  system_packages:\n{system}" if system else ""), 1))
    return model


@pytest.mark.slow
def test_pure_python_sdist_is_built_reproducibly(tmp_path: Path, cache: Path, links: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(cache))
    model = _model(tmp_path, links, ["probe==1.0"])
    lock = lock_model(model)
    probe = lock.wheel("probe")
    assert probe is not None and probe.sdist is not None
    assert probe.filename == "probe-1.0-py3-none-any.whl" and probe.url.endswith("/probe-1.0.tar.gz")
    assert probe.sdist.reproducible and not probe.sdist.compiles
    assert any(p.startswith("setuptools==") for p in probe.sdist.build_requires)
    assert {f"{w.name}=={w.version}" for w in lock.build_wheels} >= set(probe.sdist.build_requires)
    assert lock.build_debs and not any(d.package == "gcc" for d in lock.debs)  # the toolchain stays out of the image
    write_lock(model, lock)
    # clean caches on "other machines": the wheel is built again, must have the locked bytes, and so the image
    # the same digest each time
    ids = []
    for n in range(2):
        monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / f"clean-cache-{n}"))
        result = build(model, out=tmp_path / f"result-{n}")
        assert any(e.name == "wheel/probe-1.0" for layer in result.plan.layers for e in layer.entries)
        ids.append(result.image_id)
    assert ids[0] == ids[1]


@pytest.mark.slow
def test_c_extension_sdist_with_its_library_listed(tmp_path: Path, cache: Path, links: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    dockerkit.docker_or_skip()
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(cache))
    model = _model(tmp_path, links, ["cprobe==1.0"], ["libzstd-dev"])
    lock = lock_model(model)
    cprobe = lock.wheel("cprobe")
    assert cprobe is not None and cprobe.sdist is not None and cprobe.sdist.compiles and cprobe.sdist.reproducible
    assert cprobe.filename.startswith("cprobe-1.0-cp311-cp311-linux_x86_64")
    assert any(d.package == "gcc" for d in lock.build_debs)
    write_lock(model, lock)
    result = build(model, out=tmp_path / "result")
    dockerkit.load(result.result_path)
    try:
        with dockerkit.running(result.plan.repo_tag) as (base, cid):
            dockerkit.wait_ready(base)
            assert int(dockerkit.exec_python(cid, "import cprobe; print(cprobe.zstd_version())")) > 10000
    finally:
        dockerkit.remove_image(result.plan.repo_tag)


@pytest.mark.slow
def test_a_missing_library_names_the_debian_package(tmp_path: Path, cache: Path, links: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(cache))
    model = _model(tmp_path, links, ["cprobe==1.0"])
    with pytest.raises(LockError) as err:
        lock_model(model)
    text = err.value.message
    assert "building cprobe 1.0 from its source distribution failed" in text
    assert "fatal error: zstd.h: No such file or directory" in text  # the log's last lines
    assert "it needs the header zstd.h (Debian package libzstd-dev)" in text
    assert "add libzstd-dev to build.system_packages" in text
    log = Path(text.split("(the whole log: ", 1)[1].split(")", 1)[0])
    assert log.is_file() and "zstd.h" in log.read_text()
    assert not (model / "lock.json").exists()
