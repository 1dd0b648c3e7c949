"""Wheels built from source distributions, in a bubblewrap sandbox over the image's own tree.

The build environment is the image's system (its debs, plus the lock's build debs: gcc, g++, make, pkg-config,
the interpreter's headers), the image's interpreter, and the sdist's locked build requirements installed into its
site-packages. The sdist is unpacked at /build/src and built there (one fixed path, so nothing depends on where the
cache lives), with no network, SOURCE_DATE_EPOCH and PYTHONHASHSEED fixed. The PEP 517 hooks are called through
pyproject_hooks' in-process script, run by the image's interpreter. A built wheel is cached by (sdist sha256, build
environment); the lock records its sha256, so a rebuild on another machine is checked against it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tarfile
import tempfile
import tomllib
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from pyproject_hooks import BackendUnavailable, BuildBackendHookCaller, HookMissing

from cognix.engines.native import entries as E
from cognix.engines.native.sandbox import assemble, run_in_tree
from cognix.errors import StoreError
from cognix.fileio import write_atomic
from cognix.lock.model import Deb, Lock, Sdist, Wheel
from cognix.lock.sources import BuiltWheel, Missing, NeedsRequirements, SdistBuildError, SourceInfo
from cognix.progress import Progress, Silent
from cognix.store import cache
from cognix.store.entries import entry_key, remove_tree

BUILDER_FORMAT = "1"  # bump when the build environment changes in a way the key does not cover
SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01T00:00:00Z: the earliest time a zip (wheel) entry can record
SRC, OUT = "/build/src", "/build/out"
LEGACY_BACKEND = "setuptools.build_meta:__legacy__"  # PEP 517's fallback for sdists without [build-system]
LEGACY_REQUIRES = ["setuptools>=40.8.0", "wheel"]
TIMEOUT_S = 3600
_TAIL_LINES = 25


@dataclass(frozen=True)
class BuildSpec:
    """An sdist's [build-system]: what its build needs installed, and the backend to call."""

    requires: list[str]
    backend: str
    backend_path: list[str] = field(default_factory=list)
    compiles: bool = False  # sources a compiler builds: C, C++, Cython, Rust, Fortran, CUDA, CMake/Meson projects


_COMPILED = re.compile(r"\.(c|cc|cpp|cxx|c\+\+|pyx|rs|f|f90|f95|cu)$|(^|/)(CMakeLists\.txt|meson\.build|Cargo\.toml)$",
                       re.IGNORECASE)


_MISSING = [
    ("header", re.compile(r"fatal error: ([\w./+-]+\.h(?:pp)?): No such file or directory")),
    ("pkg-config", re.compile(r"Package '?([\w.+-]+?)'?,? (?:was not found|required by .* not found)")),
    ("pkg-config", re.compile(r"No package '([\w.+-]+)' found")),
    ("library", re.compile(r"cannot find -l([\w.+-]+)")),
    ("command", re.compile(r"(?:/bin/sh: \d+: |sh: )?([\w.+-]+): (?:command )?not found")),
    ("command", re.compile(r"error: command '([\w.+/-]+)' failed: No such file or directory")),
]


def missing_in(log: str) -> list[Missing]:
    """What a failed build's log says it could not find (first mention order, no repeats)."""
    found: list[Missing] = []
    for line in log.splitlines():
        for kind, pattern in _MISSING:
            match = pattern.search(line)
            if match:
                item = Missing(kind, match.group(1).rsplit("/", 1)[-1] if kind == "command" else match.group(1))
                if item not in found:
                    found.append(item)
    return found


# --- reading the sdist --------------------------------------------------------------------------------------------

def _members(path: Path, name: str) -> tuple[list[str], Callable[[str], bytes | None]]:
    """Member names of an sdist (.tar.* or .zip), and a reader by name."""
    try:
        if name.endswith(".zip"):
            archive = zipfile.ZipFile(path)
            return archive.namelist(), lambda m: archive.read(m) if m in archive.namelist() else None
        tar = tarfile.open(path, mode="r:*")
        members = {m.name: m for m in tar.getmembers()}

        def read(member: str) -> bytes | None:
            info = members.get(member)
            f = tar.extractfile(info) if info is not None and info.isfile() else None
            return f.read() if f is not None else None

        return list(members), read
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as err:
        raise StoreError(f"cannot read the source distribution {name}: {err}", where=str(path)) from None


def _top(names: list[str], where: str) -> str:
    tops = {n.split("/", 1)[0] for n in names if n.strip("/")}
    if len(tops) != 1:
        raise StoreError(f"{where}: a source distribution holds one top-level directory, this one has {len(tops)}")
    return tops.pop()


def build_spec(path: Path, name: str) -> BuildSpec:
    """The sdist's [build-system] (PEP 517/518), or setuptools' legacy backend when it declares none."""
    names, read = _members(path, name)
    spec = _declared(read(f"{_top(names, name)}/pyproject.toml"), name)
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


def _unpack_source(path: Path, name: str, dest: Path) -> None:
    """The sdist's top directory's contents into dest; paths must stay inside it."""
    names, read = _members(path, name)
    top = _top(names, name)
    dest.mkdir(parents=True, exist_ok=True)
    if name.endswith(".zip"):
        archive = zipfile.ZipFile(path)
        for info in archive.infolist():
            rel = _inside(info.filename, top, name)
            if rel and not info.is_dir():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                (dest / rel).write_bytes(archive.read(info))
        return
    with tarfile.open(path, mode="r:*") as tar:
        for member in tar.getmembers():
            rel = _inside(member.name, top, name)
            if rel is None:
                continue
            if member.issym() or member.islnk():
                link_rel = os.path.normpath(os.path.join(os.path.dirname(rel), member.linkname)) \
                    if member.issym() else _inside(member.linkname, top, name)
                if member.linkname.startswith("/") or link_rel is None or link_rel.startswith(".."):
                    raise StoreError(f"{name}: link {member.name} points outside the source tree")
            member.name = rel
            tar.extract(member, dest, filter="data")


def _inside(member: str, top: str, where: str) -> str | None:
    norm = os.path.normpath(member)
    if norm == top:
        return None
    if not norm.startswith(top + "/") or ".." in norm.split("/"):
        raise StoreError(f"{where}: {member!r} is outside the source tree")
    return norm[len(top) + 1:]


# --- the build ----------------------------------------------------------------------------------------------------

def _env_wheels(lock: Lock, sdist: Sdist) -> list[Wheel]:
    by_pin = {f"{w.name}=={w.version}": w for w in lock.build_wheels}
    missing = [p for p in sdist.build_requires if p not in by_pin]
    if missing:
        raise StoreError(f"the lock names build requirements it does not pin: {', '.join(missing)}",
                         fix="run `cognix lock` again")
    return [by_pin[p] for p in sdist.build_requires]


def _env_debs(lock: Lock, sdist: Sdist) -> list[Deb]:
    """The image's debs, and the toolchain's when the sdist compiles anything."""
    return [*lock.debs, *lock.build_debs] if sdist.compiles else list(lock.debs)


def build_key(lock: Lock, sdist: Sdist) -> str:
    """The cache key of a built wheel: the sdist and everything its build environment is made of."""
    layout = lock.target.layout()
    debs = sorted(d.sha256 for d in _env_debs(lock, sdist))
    return entry_key("sdist-wheel", BUILDER_FORMAT, SOURCE_DATE_EPOCH, sdist.sha256, layout.executable,
                     layout.site_packages, lock.python.sha256 if lock.python else "", *debs,
                     *sorted(w.sha256 for w in _env_wheels(lock, sdist)))


def _record(key: str) -> Path:
    return cache.cache_dir() / "sdist-builds" / f"{key}.json"


def cached_build(lock: Lock, sdist: Sdist) -> BuiltWheel | None:
    try:
        data = json.loads(_record(build_key(lock, sdist)).read_text())
    except (OSError, ValueError):
        return None
    path = cache.cached(data.get("sha256", ""), data.get("size", -1))
    return BuiltWheel(data["filename"], data["sha256"], data["size"], path) if path else None


def log_path(name: str, version: str) -> Path:
    return cache.cache_dir() / "logs" / f"sdist-{name}-{version}.log"


def build_wheel(lock: Lock, name: str, version: str, sdist: Sdist, *, offline: bool = False,
                use_cache: bool = True, progress: Progress | None = None) -> BuiltWheel:
    """Build `name`'s wheel from its sdist in the sandbox (or take the cached build); NeedsRequirements when the
    backend asks for build requirements the lock did not pin, SdistBuildError when the build fails."""
    progress = progress or Silent()
    if use_cache and (hit := cached_build(lock, sdist)) is not None:
        return hit
    key = build_key(lock, sdist)
    wheels = _env_wheels(lock, sdist)
    env_lock = lock.model_copy(update={"wheels": [], "build_wheels": wheels, "debs": _env_debs(lock, sdist),
                                       "build_debs": []})
    files = E.fetch_all(env_lock, offline=offline, progress=progress, build_inputs=True)
    source = cache.fetch(sdist.url, sdist.sha256, sdist.size, sdist.filename, offline=offline, progress=progress)
    spec = build_spec(source, sdist.filename)
    progress.start(f"building {name} {version} from source")
    work = Path(tempfile.mkdtemp(dir=_scratch(), prefix=f"{name}-"))
    try:
        tree = work / "tree"
        _assemble_env(env_lock, files, tree)
        _unpack_source(source, sdist.filename, work / "build" / "src")
        (work / "build" / "out").mkdir(parents=True)
        log = log_path(name, version)
        filename = _run_hooks(lock, spec, tree, work / "build", _installed(wheels), name, version, log)
        built = work / "build" / "out" / filename
        sha, size = cache.file_sha256(built), built.stat().st_size
        path = cache.add_file(built, sha, size, filename)
    finally:
        remove_tree(work)
    progress.done()
    if use_cache:
        write_atomic(_record(key), json.dumps({"filename": filename, "sha256": sha, "size": size},
                                              sort_keys=True).encode())
    return BuiltWheel(filename, sha, size, path)


def _scratch() -> Path:
    base = cache.cache_dir() / "tmp"  # on the cache's file system, so the env is hard-linked, not copied
    base.mkdir(parents=True, exist_ok=True)
    return base


def _assemble_env(env: Lock, files: dict[str, Path], tree: Path) -> None:
    """The build environment (env: the lock narrowed to what this build gets) assembled into tree."""
    debs = E.deb_entries(env.debs, files)
    python = [e for e in [E.python_entry(env, files)] if e is not None]
    layers = [*debs, *python, E.system_entry(env, debs), *E.wheel_entries(env.build_wheels, env.target.layout(),
                                                                            files)]
    tree.mkdir(parents=True)
    assemble(layers, tree, link=True)  # mounted read-only: hard links can't be written through


def _installed(wheels: list[Wheel]) -> dict[str, str]:
    return {w.name: w.version for w in wheels}


def _unsatisfied(requires: list[str], installed: Mapping[str, str], python: str) -> list[str]:
    env = {"python_version": python, "python_full_version": f"{python}.0", "sys_platform": "linux",
           "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
           "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}
    out = []
    for text in requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            out.append(text)
            continue
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        have = installed.get(canonicalize_name(req.name))
        if have is None or not req.specifier.contains(have, prereleases=True):
            out.append(text)
    return out


def _run_hooks(lock: Lock, spec: BuildSpec, tree: Path, build: Path, installed: Mapping[str, str], name: str,
               version: str, log: Path) -> str:
    layout = lock.target.layout()
    env = {"PATH": f"{layout.scripts}:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
           "TZ": "UTC", "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "PYTHONHASHSEED": "0",
           "PYTHONDONTWRITEBYTECODE": "1", "PIP_NO_INDEX": "1"}
    output: list[bytes] = []

    def runner(cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None) -> None:
        script_dir, control = os.path.dirname(cmd[1]), cmd[3]
        proc = run_in_tree(tree, list(cmd), env=env | dict(extra_environ or {}), chdir=cwd or SRC, timeout=TIMEOUT_S,
                           binds=[(str(build), "/build", True), (script_dir, script_dir, False),
                                  (control, control, True)])
        output.append(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise _HookFailed(f"the build backend exited with status {proc.returncode}")

    hooks = BuildBackendHookCaller(SRC, spec.backend, backend_path=spec.backend_path or None, runner=runner,
                                   python_executable=layout.executable)
    try:
        with warnings.catch_warnings(record=True) as caught:  # the backend's warnings: for the log, not the user
            warnings.simplefilter("always")
            extra = _unsatisfied(list(hooks.get_requires_for_build_wheel({})), installed, lock.target.python_version)
            if extra:
                raise NeedsRequirements(extra)
            filename = hooks.build_wheel(OUT, {})
        output += [f"warning: {w.message}\n".encode() for w in caught]
    except (_HookFailed, BackendUnavailable, HookMissing) as err:
        text = _write_log(log, output)
        what = str(err).splitlines()[0] if str(err) else type(err).__name__
        if isinstance(err, BackendUnavailable):
            what = f"its build backend {spec.backend} could not be imported"
        tail = "\n".join(text.splitlines()[-_TAIL_LINES:])
        raise SdistBuildError(name, version, what, log, tail, missing_in(text)) from None
    _write_log(log, output)
    return filename


class _HookFailed(Exception):
    pass


def _write_log(log: Path, output: list[bytes]) -> str:
    text = b"".join(output).decode("utf-8", errors="replace")
    write_atomic(log, text.encode("utf-8"))
    return text


# --- reproducibility and image builds -----------------------------------------------------------------------------

def built_wheels(lock: Lock, *, offline: bool = False,
                 progress: Progress | None = None) -> tuple[Lock, dict[str, Path]]:
    """The lock with each wheel built from an sdist as built here, and sha256 -> file for those wheels: the cached
    build, else built again and checked against the locked sha256 (one the lock marks not reproducible is taken
    with a warning, and the image then holds this machine's build)."""
    out: dict[str, Path] = {}
    wheels: list[Wheel] = []
    for wheel in lock.wheels:
        if wheel.sdist is None:
            wheels.append(wheel)
            continue
        if (path := cache.cached(wheel.sha256, wheel.size)) is not None:  # the locked build itself (or imported)
            wheels.append(wheel)
            out[wheel.sha256] = path
            continue
        built = build_wheel(lock, wheel.name, wheel.version, wheel.sdist, offline=offline, progress=progress)
        if built.sha256 != wheel.sha256:
            if wheel.sdist.reproducible:
                raise StoreError(
                    f"the wheel of {wheel.name} {wheel.version} built from its sdist here has sha256 {built.sha256}, "
                    f"but the lock recorded {wheel.sha256}: its build is not reproducible on this machine",
                    fix="run `cognix lock` again to record it (it then checks the build twice), or "
                        "`cognix import-inputs` the built wheel from the machine that locked it")
            print(f"warning: {wheel.name} {wheel.version} is not reproducible ({wheel.sdist.note}); the image "
                  "holds this machine's build", file=sys.stderr)
            wheel = wheel.model_copy(update={"sha256": built.sha256, "size": built.size, "filename": built.filename})
        wheels.append(wheel)
        out[wheel.sha256] = built.path
    return lock.model_copy(update={"wheels": wheels}), out


class NativeBuilder:
    """cognix.lock.sources.SourceBuilder over this engine's sandbox."""

    def __init__(self, *, offline: bool = False, progress: Progress | None = None) -> None:
        self.offline, self.progress = offline, progress

    def inspect(self, sdist: Sdist) -> SourceInfo:
        path = cache.fetch(sdist.url, sdist.sha256, sdist.size, sdist.filename, offline=self.offline,
                           progress=self.progress)
        spec = build_spec(path, sdist.filename)
        return SourceInfo(spec.requires, spec.compiles)

    def build(self, lock: Lock, name: str, version: str, sdist: Sdist, *, fresh: bool) -> BuiltWheel:
        return build_wheel(lock, name, version, sdist, offline=self.offline, use_cache=not fresh,
                           progress=self.progress)


__all__ = ["BuildSpec", "NativeBuilder", "build_spec", "build_wheel", "built_wheels", "missing_in"]
