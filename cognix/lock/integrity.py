"""lock.json is what every build trusts, so an edited one must never build: a digest of its resolved content, and
the rules any lock `cognix lock` writes obeys (the two sections agree, the wheels' requirements are all locked,
every path stays inside its root).

The input hash (cognix.lock.inputs) says whether the lock still matches what it was made from; this says whether it
is still what was made.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections import Counter
from typing import Any

from cognix import jsontext
from cognix.lock.model import Lock

CONTENT_KEY = "contentHash"
_SIGNED = ("cognix", "fetchPipMetadata", "invalidationHash")  # every other top-level key of lock.json
_MAX_LISTED = 3
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def content_hash(doc: dict[str, Any]) -> str:
    """sha256 over the canonical JSON of lock.json's sections (all but the hash itself)."""
    signed = {key: doc.get(key) for key in _SIGNED}
    return hashlib.sha256(jsontext.compact(signed).encode("utf-8")).hexdigest()


def _duplicates(names: list[str]) -> list[str]:
    return sorted(name for name, count in Counter(names).items() if count > 1)


def _outside(path: str) -> bool:
    """A relative POSIX path that leaves its root (or is absolute, or has backslashes or NULs)."""
    if not path or path.startswith("/") or "\\" in path or "\0" in path:
        return True
    return posixpath.normpath(path).startswith("..") or ".." in path.split("/")


def _bare_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..") and "\0" not in name


def _listed(items: list[str]) -> str:
    more = f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return ", ".join(items[:_MAX_LISTED]) + more


def _wheel_problems(lock: Lock) -> list[str]:
    problems = []
    if dup := _duplicates([w.name for w in lock.wheels]):
        problems.append(f"wheels locked twice: {_listed(dup)}")
    if dup := _duplicates([f"{w.name}=={w.version}" for w in lock.build_wheels]):
        problems.append(f"build wheels locked twice: {_listed(dup)}")
    names = {w.name for w in lock.wheels}
    for wheel in lock.wheels:
        if missing := sorted(set(wheel.dependencies) - names):
            problems.append(f"{wheel.name} {wheel.version} requires {_listed(missing)}, which the lock does not have")
    for wheel in lock.wheels + lock.build_wheels:  # the store keeps each file under its name: build wheels too
        files = [wheel.filename] + ([wheel.sdist.filename] if wheel.sdist else [])
        if bad := [f for f in files if not _bare_name(f)]:
            problems.append(f"{wheel.name}'s file name {bad[0]!r} is not a plain file name")
    return problems


def _deb_problems(lock: Lock) -> list[str]:
    problems = []
    for kind, debs in (("", lock.debs), ("build ", lock.build_debs)):
        if dup := _duplicates([d.package for d in debs]):
            problems.append(f"{kind}.debs locked twice: {_listed(dup)}")
    packages = {d.package for d in lock.debs} | {d.package for d in lock.build_debs}
    for deb in lock.debs + lock.build_debs:
        if _outside(deb.filename):
            problems.append(f"{deb.package}'s pool path {deb.filename!r} leaves the mirror's root")
        if missing := sorted(set(deb.depends) - packages):
            problems.append(f"{deb.package} {deb.version} depends on {_listed(missing)}, which the lock does not have")
    return problems


def _local_outside(source: str) -> bool:
    """A weights source that is a path (no URL scheme) leaving the model directory: a build reads it from there."""
    return not _SCHEME.match(source) and source != "." and _outside(source)


def _other_problems(lock: Lock) -> list[str]:
    problems = []
    if lock.python is not None and not _bare_name(lock.python.filename):
        problems.append(f"the interpreter's file name {lock.python.filename!r} is not a plain file name")
    for ws in lock.weights:
        if posixpath.normpath(ws.dest) != ws.dest or not (ws.dest == "/src" or ws.dest.startswith("/src/")):
            problems.append(f"weights destination {ws.dest!r} is not a path under /src")
        if bad := [f.path for f in ws.files if _outside(f.path)]:
            problems.append(f"weights under {ws.dest} name a path that leaves it: {bad[0]!r}")
        if bad := [s for s in [ws.src, *(f.source for f in ws.files)] if _local_outside(s)]:
            problems.append(f"weights under {ws.dest} are read from {bad[0]!r}, outside the model directory")
    return problems


def problems(doc: dict[str, Any], lock: Lock, pip_metadata: dict[str, Any]) -> list[str]:
    """What is wrong with a parsed lock.json (`doc`, its cognix section validated as `lock`, and the
    fetchPipMetadata that section implies); empty for every lock `cognix lock` writes."""
    found = _wheel_problems(lock) + _deb_problems(lock) + _other_problems(lock)
    if extra := sorted(set(doc) - {*_SIGNED, CONTENT_KEY}):  # unsigned: it could say anything to another reader
        found.append(f"it has a key cognix does not write: {_listed([repr(k) for k in extra])}")
    if doc.get("fetchPipMetadata") != pip_metadata:
        theirs = doc.get("fetchPipMetadata") if isinstance(doc.get("fetchPipMetadata"), dict) else {}
        sources = theirs.get("sources") if isinstance(theirs.get("sources"), dict) else {}
        differ = sorted(set(sources) ^ set(pip_metadata["sources"])
                        | {n for n in set(sources) & set(pip_metadata["sources"])
                           if sources[n] != pip_metadata["sources"][n]})
        what = f" (for {_listed(differ)})" if differ else ""
        found.append(f"fetchPipMetadata, which the Nix engine reads, differs from the cognix section{what}")
    declared = doc.get(CONTENT_KEY)
    if declared is None:
        found.append(f"it has no {CONTENT_KEY} (an older cognix wrote it)")
    elif declared != content_hash(doc) and not found:
        found.append(f"its content changed after `cognix lock` wrote it ({CONTENT_KEY} no longer matches)")
    return found
