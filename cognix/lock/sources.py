"""Packages only published as source distributions: the seam between the lock and the engine that builds them.

The lock resolves an sdist's build requirements and the toolchain, and records the wheel built from it (its sha256,
and whether two clean builds agree). Building needs the image's tree and a sandbox, which the native engine has:
it implements SourceBuilder and raises the errors below, which the lock turns into located advice.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from cognix.errors import CognixError, LockError, StoreError
from cognix.lock.debian.contents import providers
from cognix.lock.index import IndexConfig
from cognix.lock.model import Lock, Sdist, Wheel
from cognix.lock.python import BUILD_CONSTRAINTS, NoWheelError, SourcePin, resolve_wheels
from cognix.lock.target import marker_environment
from cognix.progress import Progress


@dataclass(frozen=True)
class BuiltWheel:
    filename: str
    sha256: str
    size: int
    path: Path  # the verified copy in the download cache


@dataclass(frozen=True)
class Missing:
    """Something a failed build looked for and the sandbox lacks, as its log names it."""

    kind: Literal["header", "pkg-config", "library", "command"]
    name: str

    def pattern(self) -> re.Pattern[str]:
        """Paths (as a Debian Contents index writes them) of files that would provide it."""
        name = re.escape(self.name)
        if self.kind == "header":
            return re.compile(rf"usr/include/(?:.+/)?{name}")
        if self.kind == "pkg-config":
            return re.compile(rf"usr/(?:lib/x86_64-linux-gnu|share|lib)/pkgconfig/{name}\.pc")
        if self.kind == "library":
            return re.compile(rf"usr/lib/(?:x86_64-linux-gnu/)?lib{name}\.(?:so|a)")
        return re.compile(rf"usr/s?bin/{name}")

    def describe(self) -> str:
        return {"header": "the header", "pkg-config": "the pkg-config module", "library": "the library -l",
                "command": "the command"}[self.kind] + (self.name if self.kind == "library" else f" {self.name}")


class SdistBuildError(StoreError):
    """A wheel could not be built from its sdist; `missing` lists what the log says the build looked for."""

    def __init__(self, package: str, version: str, what: str, log: Path, tail: str, missing: list[Missing]) -> None:
        self.package, self.version, self.log, self.tail, self.missing = package, version, log, tail, missing
        super().__init__(f"building {package} {version} from its source distribution failed: {what}\n"
                         f"last lines of its build log (the whole log: {log}):\n{tail}",
                         fix="list the Debian -dev packages it needs in build.system_packages, or pin a version "
                             f"of {package} that ships a wheel for this Python")


class NeedsRequirements(Exception):
    """The backend asked (get_requires_for_build_wheel) for build requirements the environment lacks."""

    def __init__(self, requires: list[str]) -> None:
        self.requires = requires
        super().__init__(", ".join(requires))


@dataclass(frozen=True)
class SourceInfo:
    requires: list[str]  # [build-system] requires, or setuptools' legacy default
    compiles: bool  # needs the compiler toolchain


class SourceBuilder(Protocol):
    def inspect(self, sdist: Sdist) -> SourceInfo:
        """What the sdist declares its build needs."""
        ...

    def build(self, lock: Lock, name: str, version: str, sdist: Sdist, *, fresh: bool) -> BuiltWheel:
        """The wheel built from sdist in lock's build environment; fresh: from a clean build, cache unused."""
        ...


def differing_members(a: Path, b: Path) -> list[str]:
    """Names of the files two builds of a wheel disagree on (RECORD aside: it differs whenever anything does)."""
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        ma = {i.filename: (i.CRC, i.date_time, i.external_attr) for i in za.infolist()}
        mb = {i.filename: (i.CRC, i.date_time, i.external_attr) for i in zb.infolist()}
        same_order = [i.filename for i in za.infolist()] == [i.filename for i in zb.infolist()]
    names = sorted(n for n in set(ma) | set(mb) if ma.get(n) != mb.get(n) and not n.endswith(".dist-info/RECORD"))
    return names or (["(the order of the files in the archive)"] if not same_order else ["(the zip metadata)"])


def _pin(wheel: Wheel) -> str:
    return f"{wheel.name}=={wheel.version}"


def lock_sources(lock: Lock, pins: list[SourcePin], *, index: IndexConfig, options: list[str],
                 builder: SourceBuilder, mirror: str | None = None, progress: Progress | None = None) -> Lock:
    """`lock` with a wheel built for every sdist-only package, its build requirements pinned in build_wheels."""
    built: list[Wheel] = []
    for pin in pins:
        lock, wheel = _lock_source(lock, pin, index=index, options=options, builder=builder, mirror=mirror,
                                   progress=progress)
        built.append(wheel)
    # retries may have pinned more than the builds use; build.run's pip stays
    used = {p for w in built if w.sdist for p in w.sdist.build_requires} | set(lock.run_wheels)
    return lock.model_copy(update={"wheels": sorted([*lock.wheels, *built], key=lambda w: w.name),
                                   "build_wheels": [w for w in lock.build_wheels if _pin(w) in used]})


def _lock_source(lock: Lock, pin: SourcePin, *, index: IndexConfig, options: list[str], builder: SourceBuilder,
                 mirror: str | None, progress: Progress | None) -> tuple[Lock, Wheel]:
    pool: dict[str, Wheel] = {_pin(w): w for w in lock.build_wheels}
    sdist = Sdist(filename=pin.sdist.filename, url=pin.sdist.url, sha256=str(pin.sdist.sha256),
                  size=int(pin.sdist.size or 0))
    info = builder.inspect(sdist)
    requires = info.requires
    sdist = sdist.model_copy(update={"compiles": info.compiles})
    for _attempt in range(3):  # the backend may ask for more (get_requires_for_build_wheel), once or twice
        env = _build_requirements(requires, lock, pin, index, options, progress)
        pool.update({_pin(w): w.model_copy(update={"requested": False}) for w in env})
        sdist = sdist.model_copy(update={"build_requires": sorted(_pin(w) for w in env)})
        lock = lock.model_copy(update={"build_wheels": sorted(pool.values(), key=lambda w: (w.name, w.version))})
        try:
            first = _build(builder, lock, pin, sdist, fresh=False, mirror=mirror, progress=progress)
            break
        except NeedsRequirements as need:
            requires = [*requires, *need.requires]
    else:
        raise LockError(f"the build backend of {pin.name} {pin.version} keeps asking for build requirements "
                        f"({', '.join(requires)})", fix=f"pin a version of {pin.name} that ships a wheel")
    _check_requirements(first.path, pin, lock)
    second = _build(builder, lock, pin, sdist, fresh=True, mirror=mirror, progress=progress)
    if second.sha256 != first.sha256:
        differ = differing_members(first.path, second.path)
        shown = ", ".join(differ[:5]) + (f" and {len(differ) - 5} more" if len(differ) > 5 else "")
        sdist = sdist.model_copy(update={"reproducible": False, "note": f"two clean builds differ in {shown}"})
    return lock, Wheel(name=pin.name, version=pin.version, filename=first.filename, url=sdist.url,
                       sha256=first.sha256, size=first.size, dependencies=pin.dependencies, requested=pin.requested,
                       sdist=sdist)


def _build_requirements(requires: list[str], lock: Lock, pin: SourcePin, index: IndexConfig, options: list[str],
                        progress: Progress | None) -> list[Wheel]:
    """The sdist's build requirements as wheels for the target, from the model's indexes and find-links."""
    try:
        return resolve_wheels(requires, [], lock.target, index, find_links=list(lock.find_links), options=options,
                              allow_sdists=False, constraints=BUILD_CONSTRAINTS, progress=progress).wheels
    except NoWheelError as err:
        raise LockError(f"{err.package}, a build requirement of {pin.name} {pin.version}, has no wheel for this "
                        "Python; cognix builds sdists only from wheels",
                        fix=f"pin a version of {pin.name} that ships a wheel, or one whose build needs no "
                            f"{err.package} sdist") from None


def _check_requirements(wheel: Path, pin: SourcePin, lock: Lock) -> None:
    """The built wheel must need nothing the resolution left out: uv read the sdist's metadata on this machine's
    Python, which may differ from the image's (a setup.py can compute its dependencies)."""
    with zipfile.ZipFile(wheel) as archive:
        meta = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1), None)
        text = archive.read(meta).decode("utf-8", errors="replace") if meta else ""
    env = marker_environment(lock.target)
    needed = set()
    for line in text.splitlines():
        if line.startswith("Requires-Dist:"):
            try:
                req = Requirement(line.split(":", 1)[1].strip())
            except InvalidRequirement:
                continue
            if req.marker is None or req.marker.evaluate(env | {"extra": ""}):
                needed.add(canonicalize_name(req.name))
    missing = sorted(needed - set(pin.dependencies))
    if missing:
        raise LockError(f"the wheel built from {pin.name} {pin.version} for Python {lock.target.python_version} "
                        f"requires {', '.join(missing)}, which its metadata read on this machine did not",
                        fix=f"add {', '.join(missing)} to the model's requirements, then run `cognix lock` again")


def _build(builder: SourceBuilder, lock: Lock, pin: SourcePin, sdist: Sdist, *, fresh: bool, mirror: str | None,
           progress: Progress | None) -> BuiltWheel:
    try:
        return builder.build(lock, pin.name, pin.version, sdist, fresh=fresh)
    except SdistBuildError as err:
        raise _advice(err, lock, mirror, progress) from None


def _advice(err: SdistBuildError, lock: Lock, mirror: str | None, progress: Progress | None) -> CognixError:
    """The build failure, with the Debian packages that provide what its log says is missing."""
    if not err.missing or lock.target.debian_suite is None:
        return err
    suite = lock.target.debian_suite
    try:
        found = providers(suite, [(m.name.rsplit("/", 1)[-1], m.pattern()) for m in err.missing],
                          mirror=mirror, progress=progress)
    except (LockError, OSError, EOFError, ValueError):  # a damaged cached index included (gzip's errors)
        return err  # the advice is a bonus; the build failure itself stays what the user sees
    lines, names = [], []
    for item, packages in zip(err.missing, found):
        where = f"Debian package {' or '.join(packages)}" if packages else f"no package in {suite} provides it"
        lines.append(f"  it needs {item.describe()} ({where})")
        names += packages[:1]
    fix = (f"add {', '.join(dict.fromkeys(names))} to build.system_packages in cog.yaml, then run `cognix lock`"
           if names else err.fix)
    return LockError(f"{err.what}\n" + "\n".join(lines), fix=fix)
