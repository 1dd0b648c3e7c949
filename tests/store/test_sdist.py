"""Reading source distributions: [build-system], compiled sources, safe unpacking (tar and zip)."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
from sdistkit import C_EXT, PURE, sdist as _sdist

from cognix.errors import StoreError
from cognix.store.sdist import build_spec, unpack_source


def test_build_spec_legacy_declared_and_compiled(tmp_path: Path) -> None:
    legacy = build_spec(_sdist(tmp_path / "a.tar.gz", PURE), "probe-1.0.tar.gz")
    assert (legacy.requires, legacy.backend, legacy.compiles) == (["setuptools>=40.8.0", "wheel"],
                                                                   "setuptools.build_meta:__legacy__", False)
    declared = build_spec(_sdist(tmp_path / "b.tar.gz", {**PURE, "pyproject.toml": """\
        [build-system]
        requires = ["hatchling>=1.0"]
        build-backend = "hatchling.build"
        backend-path = ["."]
        """}), "probe-1.0.tar.gz")
    assert (declared.requires, declared.backend, declared.backend_path) == (["hatchling>=1.0"], "hatchling.build",
                                                                            ["."])
    no_backend = build_spec(_sdist(tmp_path / "c.tar.gz", {**PURE, "pyproject.toml": "[build-system]\n"
                                                           "requires = ['setuptools>=61']\n"}), "probe-1.0.tar.gz")
    assert (no_backend.requires, no_backend.backend) == (["setuptools>=61"], "setuptools.build_meta:__legacy__")
    assert build_spec(_sdist(tmp_path / "d.tar.gz", C_EXT, top="cprobe-1.0"), "cprobe-1.0.tar.gz").compiles


def test_zip_sdists_and_bad_archives(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as archive:
        for name, text in PURE.items():
            archive.writestr(f"probe-1.0/{name}", text)
    assert build_spec(tmp_path / "z.zip", "probe-1.0.zip").backend == "setuptools.build_meta:__legacy__"
    (tmp_path / "bad.tar.gz").write_bytes(b"nope")
    with pytest.raises(StoreError, match="cannot read the source distribution"):
        build_spec(tmp_path / "bad.tar.gz", "bad.tar.gz")
    two_tops = tmp_path / "two.tar.gz"
    with tarfile.open(two_tops, "w:gz") as tar:
        for name in ("a/setup.py", "b/setup.py"):
            info = tarfile.TarInfo(name)
            tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(StoreError, match="one top-level directory"):
        build_spec(two_tops, "two.tar.gz")


def test_unpacking_refuses_paths_outside_the_source(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("probe-1.0/setup.py"), io.BytesIO(b""))
        link = tarfile.TarInfo("probe-1.0/escape")
        link.type, link.linkname = tarfile.SYMTYPE, "../../etc/passwd"
        tar.addfile(link)
    with pytest.raises(StoreError, match="outside the source tree"):
        unpack_source(evil, "evil.tar.gz", tmp_path / "out")


def test_dot_slash_names_and_modes(tmp_path: Path) -> None:
    path = tmp_path / "dot.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data, mode in (("./probe-1.0/pyproject.toml", b"[build-system]\nrequires=['flit_core']\n"
                                  b"build-backend='flit_core.buildapi'\n", 0o644),
                                 ("./probe-1.0/configure", b"#!/bin/sh\n", 0o755)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("./probe-1.0/configure.copy")
        link.type, link.linkname = tarfile.LNKTYPE, "./probe-1.0/configure"
        tar.addfile(link)
    assert build_spec(path, "probe-1.0.tar.gz").backend == "flit_core.buildapi"
    unpack_source(path, "probe-1.0.tar.gz", tmp_path / "src")
    assert (tmp_path / "src/configure").stat().st_mode & stat.S_IXUSR
    assert (tmp_path / "src/configure.copy").stat().st_ino == (tmp_path / "src/configure").stat().st_ino


def test_zip_keeps_executable_bits(tmp_path: Path) -> None:
    path = tmp_path / "probe-1.0.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("probe-1.0/configure")
        info.external_attr = (0o100755 << 16)
        archive.writestr(info, "#!/bin/sh\n")
        archive.writestr("probe-1.0/setup.py", "")
    unpack_source(path, "probe-1.0.zip", tmp_path / "src")
    assert (tmp_path / "src/configure").stat().st_mode & stat.S_IXUSR
    assert not (tmp_path / "src/setup.py").stat().st_mode & stat.S_IXUSR
