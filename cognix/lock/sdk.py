"""The packages upstream's Cog SDK brings into an image, locked with the runtime's own requirements.

Upstream's `cog` wheel depends on requests, PyYAML, structlog, typing-extensions (0.17 and later) or on pydantic,
fastapi, uvicorn, attrs and the rest (up to 0.16), and models import those without listing them. cognix's shim
needs none of them, but a model must find what upstream would have given it: the set of the model's
`build.sdk_version`, else of Cog's current release, from cognix/runtime/sdk-requirements.txt (each release's
wheel metadata).

They are conveniences for the model, so they never stand in its way:
- lower bounds are dropped (an old model pinning an old version still locks; the resolver takes the newest that
  fits anyway), upper bounds kept (they mark the release's era: pydantic<2 before 0.11, fastapi's range);
- extras are dropped (`uvicorn[standard]`'s uvloop, httptools, ... are the old server's, not the model's);
- a package the model lists itself is left to the model's own requirement;
- a model that locks upstream `cog` gets upstream's own requirements through it, and nothing here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

DATA_FILE = "sdk-requirements.txt"
UPSTREAM = "cog"
_SECTION = re.compile(r"^\[([^\]]+)\]$")


@dataclass(frozen=True)
class SdkRelease:
    version: Version  # the first release with this set
    requirements: tuple[str, ...]  # as its wheel declares them


@lru_cache(maxsize=1)
def sdk_releases() -> tuple[SdkRelease, ...]:
    """The sections of cognix/runtime/sdk-requirements.txt, oldest first."""
    text = resources.files("cognix.runtime").joinpath(DATA_FILE).read_text(encoding="utf-8")
    releases: list[SdkRelease] = []
    current: tuple[Version, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _SECTION.match(line)
        if match:
            if current is not None:
                releases.append(SdkRelease(current[0], tuple(current[1])))
            current = (Version(match.group(1)), [])
        elif current is not None:
            current[1].append(line)
    if current is not None:
        releases.append(SdkRelease(current[0], tuple(current[1])))
    return tuple(sorted(releases, key=lambda r: r.version))


def sdk_release(sdk_version: str | None) -> SdkRelease:
    """The set for `build.sdk_version`: the newest section not after it; Cog's current release when unset (or
    "prerelease"), or when the version is older than every section."""
    releases = sdk_releases()
    if not sdk_version or sdk_version == "prerelease":
        return releases[-1]
    try:
        wanted = Version(sdk_version)
    except InvalidVersion:
        return releases[-1]
    chosen = [r for r in releases if r.version <= wanted]
    return chosen[-1] if chosen else releases[0]


def requirement_name(line: str) -> str | None:
    """The canonical package name a requirement line (or a wheel file or URL) asks for, or None."""
    line = line.strip()
    try:
        return canonicalize_name(Requirement(line).name)
    except InvalidRequirement:
        pass
    filename = line.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if filename.endswith(".whl"):
        try:
            return canonicalize_name(parse_wheel_filename(filename)[0])
        except InvalidWheelFilename:
            return None
    match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*?)-\d", filename)  # an sdist: name-1.2.tar.gz
    return canonicalize_name(match.group(1)) if match else None


def loosened(line: str) -> str:
    """`uvicorn[standard]<1,>=0.12` -> `uvicorn<1`: no extras, no lower bounds; markers kept."""
    req = Requirement(line)
    kept = [s for s in req.specifier if s.operator in ("<", "<=", "!=", "==", "===")]
    text = req.name + ",".join(sorted(str(s) for s in kept))
    return f"{text}; {req.marker}" if req.marker is not None else text


def sdk_requirements(sdk_version: str | None, model_lines: list[str]) -> list[str]:
    """Requirement lines to resolve with the runtime's: the SDK's dependencies for `sdk_version`, loosened,
    without those the model lists itself; none when the model locks upstream `cog`."""
    named = {n for n in (requirement_name(line) for line in model_lines) if n}
    if UPSTREAM in named:
        return []
    out = []
    for line in sdk_release(sdk_version).requirements:
        if canonicalize_name(Requirement(line).name) not in named:
            out.append(loosened(line))
    return sorted(out)
