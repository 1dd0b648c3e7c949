"""Reading a source distribution (.tar.gz or .zip): its [build-system], whether it compiles anything, its files.

An sdist holds one top-level directory (`name-version/`); members are read relative to it, and unpacked with the
store's checked writer (no `..`, nothing written through a link, links kept inside the source tree).
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from cognix.errors import StoreError
from cognix.store.tarx import normalized, write_member

LEGACY_BACKEND = "setuptools.build_meta:__legacy__"  # PEP 517's fallback for sdists without [build-system]
LEGACY_REQUIRES = ["setuptools>=40.8.0", "wheel"]
# Sources a compiler builds (C, C++, Cython, Rust, Fortran, CUDA) or a CMake/Meson/Cargo project.
_COMPILED = re.compile(r"\.(c|cc|cpp|cxx|c\+\+|pyx|rs|f|f90|f95|cu)$|(^|/)(CMakeLists\.txt|meson\.build|Cargo\.toml)$",
                       re.IGNORECASE)


@dataclass(frozen=True)
class BuildSpec:
    """An sdist's [build-system]: what its build needs installed, and the backend to call."""

    requires: list[str]
    backend: str
    backend_path: list[str] = field(default_factory=list)
    compiles: bool = False


_ERRORS = (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, ValueError)


@contextlib.contextmanager
def _opened(path: Path, name: str) -> Iterator[tarfile.TarFile | zipfile.ZipFile]:
    try:
        with (zipfile.ZipFile(path) if name.endswith(".zip") else tarfile.open(path, mode="r:*")) as archive:
            yield archive
    except _ERRORS as err:
        raise StoreError(f"cannot read the source distribution {name}: {err}", where=str(path)) from None


def _names(archive: tarfile.TarFile | zipfile.ZipFile, where: str) -> list[str]:
    raw = archive.namelist() if isinstance(archive, zipfile.ZipFile) else archive.getnames()
    return [n for n in (normalized(r, where) for r in raw) if n]


def _top(names: list[str], where: str) -> str:
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) != 1:
        raise StoreError(f"{where}: a source distribution holds one top-level directory, this one has {len(tops)}")
    return tops.pop()


def _read(archive: tarfile.TarFile | zipfile.ZipFile, wanted: str, where: str) -> bytes | None:
    if isinstance(archive, zipfile.ZipFile):
        infos = [i for i in archive.infolist() if normalized(i.filename, where) == wanted]
        return archive.read(infos[0]) if infos else None
    for member in archive.getmembers():
        if normalized(member.name, where) == wanted and member.isfile():
            f = archive.extractfile(member)
            return f.read() if f is not None else None
    return None


def build_spec(path: Path, name: str) -> BuildSpec:
    """The sdist's [build-system] (PEP 517/518), or setuptools' legacy backend when it declares none."""
    with _opened(path, name) as archive:
        names = _names(archive, name)
        spec = _declared(_read(archive, f"{_top(names, name)}/pyproject.toml", name), name)
    return replace(spec, compiles=any(_COMPILED.search(n) for n in names))


def _declared(data: bytes | None, name: str) -> BuildSpec:
    if data is None:
        return BuildSpec(list(LEGACY_REQUIRES), LEGACY_BACKEND)
    try:
        system = tomllib.loads(data.decode("utf-8")).get("build-system") or {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise StoreError(f"{name}: pyproject.toml is not valid TOML ({err})") from None
    requires = system.get("requires")
    if not isinstance(requires, list):
        return BuildSpec(list(LEGACY_REQUIRES), LEGACY_BACKEND)
    backend = system.get("build-backend")
    if not isinstance(backend, str) or not backend:
        return BuildSpec([str(r) for r in requires], LEGACY_BACKEND)
    backend_path = system.get("backend-path")
    return BuildSpec([str(r) for r in requires], backend,
                     [str(p) for p in backend_path] if isinstance(backend_path, list) else [])


def _in_source(rel: str, link: str, name: str) -> None:
    if link.startswith("/") or posixpath.normpath(posixpath.join(posixpath.dirname(rel), link)).startswith(".."):
        raise StoreError(f"{name}: link {rel} -> {link} points outside the source tree")


def unpack_source(path: Path, name: str, dest: Path) -> None:
    """The sdist's top directory's contents into dest (modes kept, so configure scripts stay executable)."""
    dest.mkdir(parents=True, exist_ok=True)
    with _opened(path, name) as archive:
        top = _top(_names(archive, name), name)
        strip = lambda n: normalized(n, name)[len(top) + 1:]  # noqa: E731 - `top/x` -> `x`
        if isinstance(archive, zipfile.ZipFile):
            for info in archive.infolist():
                if (rel := strip(info.filename)) and not info.is_dir():
                    target = dest / rel
                    if any(p.is_symlink() for p in target.parents):
                        raise StoreError(f"{name}: {rel!r} passes through a link")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(archive.read(info))
                    target.chmod(((info.external_attr >> 16) & 0o777) | 0o600)
            return
        try:
            for member in archive.getmembers():
                if not (rel := strip(member.name)):
                    continue
                if member.issym():
                    _in_source(rel, member.linkname, name)
                hard = strip(member.linkname) if member.islnk() else None
                write_member(archive, member, dest, rel, name, hardlink_rel=hard)
        except _ERRORS as err:
            raise StoreError(f"cannot unpack the source distribution {name}: {err}", where=str(path)) from None
