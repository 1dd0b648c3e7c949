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
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version
from pyproject_hooks import BackendUnavailable, BuildBackendHookCaller, HookMissing

from cognix.engines.native import entries as E
from cognix.engines.native.sandbox import assemble, run_in_tree
from cognix.errors import StoreError
from cognix.fileio import write_atomic
from cognix.lock.model import Deb, Lock, Sdist, Target, Wheel
from cognix.lock.sources import BuiltWheel, Missing, NeedsRequirements, SdistBuildError, SourceInfo
from cognix.lock.target import marker_environment
from cognix.progress import Progress, Silent
from cognix.store import cache
from cognix.store.entries import entry_key, remove_tree
from cognix.store.sdist import BuildSpec, build_spec, unpack_source

BUILDER_FORMAT = "1"  # bump when the build environment changes in a way the key does not cover
SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01T00:00:00Z: the earliest time a zip (wheel) entry can record
SRC, OUT, HOOKS, CONTROL = "/build/src", "/build/out", "/build/hooks", "/build/control"
TIMEOUT_S = 3600
_TAIL_LINES = 25


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
        filename, sha, size = str(data["filename"]), str(data["sha256"]), int(data["size"])
    except (OSError, ValueError, KeyError, TypeError):  # no record, or a damaged one: build again
        return None
    path = cache.cached(sha, size)  # the blob is verified by sha256 and size, whatever the record says
    return BuiltWheel(filename, sha, size, path) if path else None


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
        unpack_source(source, sdist.filename, work / "build" / "src")
        (work / "build" / "out").mkdir(parents=True)
        log = log_path(name, version)
        filename = _run_hooks(lock, spec, tree, work / "build", _installed(wheels), name, version, log)
        built = _checked_output(work / "build" / "out", filename, name, version)
        sha, size = cache.file_sha256(built), built.stat().st_size
        path = cache.add_file(built, sha, size, filename)
    finally:
        remove_tree(work)
    progress.done()
    if use_cache:
        write_atomic(_record(key), json.dumps({"filename": filename, "sha256": sha, "size": size},
                                              sort_keys=True).encode())
    return BuiltWheel(filename, sha, size, path)


def _checked_output(out: Path, filename: object, name: str, version: str) -> Path:
    """The wheel the backend says it wrote: a plain file in the output directory, named for this package."""
    if not isinstance(filename, str) or os.path.basename(filename) != filename:
        raise StoreError(f"the build backend of {name} {version} named no wheel in its output: {filename!r}")
    path = out / filename
    try:
        wheel_name, wheel_version, _build, _tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        raise StoreError(f"the build backend of {name} {version} wrote {filename!r}, not a wheel") from None
    if wheel_name != canonicalize_name(name) or str(wheel_version) != str(Version(version)):
        raise StoreError(f"building {name} {version} gave a wheel of {wheel_name} {wheel_version} ({filename})")
    if path.is_symlink() or not path.is_file():
        raise StoreError(f"the build backend of {name} {version} left no file {filename} in its output")
    return path


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


def _unsatisfied(requires: list[str], installed: Mapping[str, str], target: Target) -> list[str]:
    env = marker_environment(target) | {"extra": ""}
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
        # pyproject_hooks runs [python, <its _in_process.py>, hook, <control dir>]; both paths are the host's, and
        # are mounted at fixed places so no host path reaches the build (or the wheel)
        if len(cmd) != 4 or os.path.basename(cmd[1]) != "_in_process.py":
            raise StoreError(f"unexpected pyproject_hooks command {list(cmd)!r}", fix="install pyproject-hooks 1.x")
        argv = [cmd[0], f"{HOOKS}/_in_process.py", cmd[2], CONTROL]
        proc = run_in_tree(tree, argv, env=env | dict(extra_environ or {}), chdir=cwd or SRC, timeout=TIMEOUT_S,
                           binds=[(str(build), "/build", True), (os.path.dirname(cmd[1]), HOOKS, False),
                                  (cmd[3], CONTROL, True)])
        output.append(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise _HookFailed(f"the build backend exited with status {proc.returncode}")

    hooks = BuildBackendHookCaller(SRC, spec.backend, backend_path=spec.backend_path or None, runner=runner,
                                   python_executable=layout.executable)
    try:
        with warnings.catch_warnings(record=True) as caught:  # the backend's warnings: for the log, not the user
            warnings.simplefilter("always")
            extra = _unsatisfied(list(hooks.get_requires_for_build_wheel({})), installed, lock.target)
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
        try:
            built = build_wheel(lock, wheel.name, wheel.version, wheel.sdist, offline=offline, progress=progress)
        except NeedsRequirements as need:
            raise StoreError(f"building {wheel.name} {wheel.version} needs build requirements the lock lacks "
                             f"({need})", fix="run `cognix lock` again") from None
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
