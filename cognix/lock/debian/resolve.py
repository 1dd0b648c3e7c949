"""Resolve Debian package names into pinned .debs: newest version across a suite family, Depends + Pre-Depends.

Like apt's default policy each package has one candidate: its newest version across the family's suites
(python3.11 comes from bookworm-security when that is newest). Recommends and Suggests are not followed;
Conflicts/Breaks are not checked (a suite's candidates are co-installable by Debian's own QA).
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from debian import deb822
from debian.debian_support import version_compare

from cognix.errors import LockError
from cognix.fileio import write_atomic
from cognix.lock.debian import index
from cognix.lock.debian.sources import AptSource, family_sources
from cognix.lock.model import Deb
from cognix.progress import Progress, Silent

# What a container never needs at run time. A dependency group naming one of these (e.g. `debconf | debconf-2.0`)
# is dropped unless one of its alternatives was already chosen. A package asked for by name is still installed.
EXCLUDED: dict[str, str] = {
    "dpkg": "package manager; nothing installs packages in the image",
    "debconf": "configuration prompts for maintainer scripts, which are never run",
    "debconf-2.0": "virtual package of debconf implementations (debconf, cdebconf)",
    "cdebconf": "debconf implementation, see debconf",
    "install-info": "updates the info directory from maintainer scripts",
    "init-system-helpers": "maintainer-script helpers for init systems (deb-systemd-helper, invoke-rc.d)",
    "init": "init system metapackage; tini is the image's process reaper",
    "systemd": "init system; containers run tini",
    "systemd-sysv": "init system",
    "sysvinit-core": "init system",
    "sysvinit-utils": "init-script helpers (pidof, service scripts)",
    "runit-init": "init system",
    "openrc": "init system",
    "lsb-base": "init-script function library",
    "adduser": "maintainer scripts create users with it; cognix writes /etc/passwd and /etc/group itself",
    "ucf": "config-file merging done by maintainer scripts",
    "usr-is-merged": "merged-/usr transition marker (docs only)",
    "usrmerge": "converts a host to merged /usr; the image layout is cognix's",
}


@dataclass(frozen=True)
class Candidate:
    """The version of one package that resolution would take."""

    name: str
    version: str
    fields: dict[str, str]
    source: AptSource


@dataclass(frozen=True)
class DebResolution:
    debs: list[Deb]  # sorted by package
    build_debs: list[Deb]  # what building sdists needs on top of `debs` (sorted by package; never in the image)
    mirror: str  # base URI of the release suite
    release_dates: dict[str, str]  # suite -> Date: of its Release file, verbatim (every suite consulted)


@dataclass
class Universe:
    """The candidates of a suite family, and who provides which virtual package."""

    candidates: dict[str, Candidate] = field(default_factory=dict)
    provides: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # virtual -> (provider, version)
    dates: dict[str, str] = field(default_factory=dict)

    def add_suite(self, source: AptSource, records: list[dict[str, str]], arch: str) -> None:
        """Keep each package's newest version; a tie keeps the earlier suite."""
        for rec in records:
            if rec.get("Architecture") not in (arch, "all"):
                continue
            name = rec["Package"]
            old = self.candidates.get(name)
            if old is None or version_compare(rec["Version"], old.version) > 0:
                self.candidates[name] = Candidate(name, rec["Version"], rec, source)

    def finish(self) -> None:
        """Index Provides of the chosen candidates (sorted, so provider choice is deterministic)."""
        self.provides.clear()
        for name in sorted(self.candidates):
            text = self.candidates[name].fields.get("Provides")
            if not text:
                continue
            for group in deb822.PkgRelation.parse_relations(text):
                for rel in group:
                    ver = rel["version"][1] if rel.get("version") and rel["version"][0] == "=" else None
                    self.provides.setdefault(rel["name"], []).append((name, ver))


def _satisfies(version: str | None, constraint: tuple[str, str] | None) -> bool:
    if constraint is None:
        return True
    if version is None:  # an unversioned Provides never satisfies a versioned dependency
        return False
    op, want = constraint
    cmp = version_compare(version, want)
    return {
        "<<": cmp < 0, "<": cmp <= 0, "<=": cmp <= 0, "=": cmp == 0, ">=": cmp >= 0, ">": cmp >= 0, ">>": cmp > 0,
    }[op]


def _arch_ok(rel: dict, arch: str) -> bool:
    restrictions = rel.get("arch")
    if not restrictions:
        return True
    positive = [r.arch for r in restrictions if r.enabled]
    negative = [r.arch for r in restrictions if not r.enabled]
    return (arch in positive or not positive) and arch not in negative


def _fmt(rel: dict) -> str:
    name = rel["name"] + (f":{rel['archqual']}" if rel.get("archqual") else "")
    return name + (f" ({rel['version'][0]} {rel['version'][1]})" if rel.get("version") else "")


class _Resolver:
    def __init__(self, universe: Universe, arch: str) -> None:
        self.u = universe
        self.arch = arch
        self.chosen: dict[str, Candidate] = {}
        self.parent: dict[str, str | None] = {}
        self.edges: dict[str, set[str]] = {}
        self.requested: set[str] = set()

    def chain(self, name: str) -> str:
        path = [name]
        while (up := self.parent.get(path[-1])) is not None:
            path.append(up)
        return " -> ".join(reversed(path))

    def providers(self, rel: dict) -> list[str]:
        """Real packages satisfying one relation: the package itself first, then providers by name."""
        out = []
        cand = self.u.candidates.get(rel["name"])
        if cand is not None and _satisfies(cand.version, rel.get("version")):
            out.append(cand.name)
        for provider, ver in self.u.provides.get(rel["name"], []):
            if provider not in out and _satisfies(ver, rel.get("version")):
                out.append(provider)
        return out

    def excluded(self, name: str) -> bool:
        return name in EXCLUDED and name not in self.requested

    def pick(self, group: list[dict], owner: Candidate) -> str | None:
        """The package satisfying one `a | b | ...` group, or None when the group is dropped as excluded."""
        alts = [rel for rel in group if _arch_ok(rel, self.arch)]
        if not alts:
            return None
        for rel in alts:  # an alternative already in the set wins
            for name in self.providers(rel):
                if name in self.chosen:
                    return name
        if any(self.excluded(rel["name"]) for rel in alts):
            return None
        for rel in alts:
            for name in self.providers(rel):
                if not self.excluded(name):
                    return name
        newest = [f"{r['name']} {self.u.candidates[r['name']].version}" for r in alts if r["name"] in self.u.candidates]
        raise LockError(
            f"unsatisfiable dependency: {self.chain(owner.name)} needs {' | '.join(_fmt(r) for r in alts)}"
            + (f"; the suites have only {', '.join(newest)}" if newest else "; no package provides it"),
            fix="the suite cannot install this combination; drop or change the system package that needs it",
        )

    def add(self, name: str, parent: str | None) -> bool:
        if name in self.chosen:
            return False
        self.chosen[name] = self.u.candidates[name]
        self.parent[name] = parent
        self.edges[name] = set()
        return True

    def run(self, roots: list[str]) -> None:
        """Breadth-first; `a | b` groups wait until every plain dependency is in, so they can prefer chosen ones."""
        queue: deque[str] = deque()
        pending: deque[tuple[Candidate, list[dict]]] = deque()
        for root in roots:
            if self.add(root, None):
                queue.append(root)
        while queue or pending:
            if not queue:
                self.follow(*pending.popleft(), queue)
                continue
            cand = self.chosen[queue.popleft()]
            text = ", ".join(t for t in (cand.fields.get("Pre-Depends"), cand.fields.get("Depends")) if t)
            for group in deb822.PkgRelation.parse_relations(text) if text else []:
                if len(group) > 1:
                    pending.append((cand, group))
                else:
                    self.follow(cand, group, queue)

    def follow(self, cand: Candidate, group: list[dict], queue: deque[str]) -> None:
        dep = self.pick(group, cand)
        if dep is None or dep == cand.name:
            return
        self.edges[cand.name].add(dep)
        if self.add(dep, cand.name):
            queue.append(dep)


def _root_name(universe: Universe, name: str, suites: str) -> str:
    """A requested name as a real package: itself, or the single provider of a virtual package."""
    if name in universe.candidates:
        return name
    providers = sorted({p for p, _ in universe.provides.get(name, [])})
    if len(providers) == 1:
        return providers[0]
    if providers:
        raise LockError(
            f"Debian package {name!r} is virtual, provided by {', '.join(providers)}",
            where="cog.yaml: build.system_packages",
            fix="name one of the providers",
        )
    names = list(universe.candidates) + list(universe.provides)
    close = difflib.get_close_matches(name.lower(), names, n=3, cutoff=0.75)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise LockError(
        f"Debian package {name!r} is not in {suites}",
        where="cog.yaml: build.system_packages",
        fix=hint + "use the Debian package name (search the suite's package list) or drop it",
    )


def resolve_universe(universe: Universe, packages: list[str], *, arch: str = "amd64") -> list[Deb]:
    """The closure of `packages` within an already loaded universe, as Deb records sorted by name."""
    suites = ", ".join(sorted(universe.dates)) or "the configured suites"
    wanted = sorted({p.strip() for p in packages if p.strip()})
    for name in wanted:
        base = name.split(":", 1)[0]
        if base != name and name.split(":", 1)[1] not in ("any", arch, "native"):
            raise LockError(f"Debian package {name!r}: only {arch} packages can be locked", fix=f"write {base}")
    roots = sorted({_root_name(universe, p.split(":", 1)[0], suites) for p in wanted})
    resolver = _Resolver(universe, arch)
    resolver.requested = set(roots)
    resolver.run(roots)
    debs = []
    for name in sorted(resolver.chosen):
        cand = resolver.chosen[name]
        f = cand.fields
        missing = [k for k in ("Filename", "SHA256", "Size") if not f.get(k)]
        if missing:
            raise LockError(
                f"the index entry of {name} {cand.version} lacks {', '.join(missing)}",
                where=f"{cand.source.uri}/dists/{cand.source.suite}",
            )
        debs.append(
            Deb(
                package=name,
                version=cand.version,
                architecture=f["Architecture"],
                filename=f["Filename"],
                url=f"{cand.source.uri}/{f['Filename']}",
                sha256=f["SHA256"].lower(),
                size=int(f["Size"]),
                depends=sorted(resolver.edges[name]),
                suite=cand.source.suite,
                release_date=universe.dates[cand.source.suite],
            )
        )
    return debs


_UNIVERSE_FORMAT = 1  # bump when Universe's cached form changes


def _fetch_release(source: AptSource, first: bool) -> index.Release | None:
    try:
        return index.fetch_release(source)
    except index.NotFound:
        if first:
            raise LockError(
                f"suite {source.suite} is not at {source.uri} (no dists/{source.suite}/InRelease or Release)",
                fix="check the Debian mirror option or apt's sources",
            ) from None
        return None


def load_universe(
    sources: list[AptSource], *, arch: str = "amd64", progress: Progress | None = None
) -> Universe:
    """Fetch and verify each suite's Release and Packages; suites after the first may be absent (skipped).

    Release files are fetched on every lock (they say whether the indexes moved), all at once; the merged
    universe of a family is cached, keyed by the sha256 of every index it was made from, so a lock against
    unchanged suites reads one file instead of parsing three indexes."""
    with ThreadPoolExecutor(max_workers=max(1, len(sources))) as pool:
        releases = list(pool.map(lambda ia: _fetch_release(ia[1], ia[0] == 0), enumerate(sources)))
    present = [(s, r) for s, r in zip(sources, releases) if r is not None]
    key = hashlib.sha256(json.dumps([_UNIVERSE_FORMAT, arch, [[s.uri, s.suite, index.index_sha256(r, arch)]
                                                               for s, r in present]]).encode()).hexdigest()
    dates = {s.suite: r.date for s, r in present}
    if (cached := _cached_universe(key, [s for s, _ in present])) is not None:
        cached.dates = dates
        return cached
    with ThreadPoolExecutor(max_workers=max(1, len(present))) as pool:  # downloads overlap; parsing takes turns
        # a terminal progress line is not for several threads at once: one line for all of them
        (progress or Silent()).start(f"fetching the Packages indexes of {', '.join(s.suite for s, _ in present)}")
        indexes = list(pool.map(lambda sr: index.fetch_packages(sr[1], arch, Silent()), present))
        (progress or Silent()).done()
    universe = Universe(dates=dates)
    for (source, _release), records in zip(present, indexes):
        universe.add_suite(source, records, arch)
    universe.finish()
    _store_universe(key, universe, [s for s, _ in present])
    return universe


def _universe_path(key: str) -> Path:
    return index.cache_dir() / "universes" / f"{key}.json"


def _cached_universe(key: str, sources: list[AptSource]) -> Universe | None:
    try:
        data = json.loads(_universe_path(key).read_text())
        os.utime(_universe_path(key))  # marks it used, for index.prune
        candidates, provides = data["candidates"], data["provides"]
        if not isinstance(candidates, dict) or not isinstance(provides, dict):
            return None
    except (OSError, ValueError, KeyError, TypeError):  # none, or damaged: made again from the indexes
        return None
    universe = Universe()
    universe.candidates = _Stored(candidates, sources)  # type: ignore[assignment]
    universe.provides = provides  # [provider, version] pairs: read like the tuples they were
    return universe


class _Stored(dict):
    """A cached universe's candidates, made into Candidate objects only when resolution asks for one (a lock
    touches a few hundred of ~60,000)."""

    def __init__(self, raw: dict[str, list], sources: list[AptSource]) -> None:
        super().__init__(raw)
        self.sources = sources

    def __getitem__(self, name: str) -> Candidate:
        value = super().__getitem__(name)
        if isinstance(value, Candidate):
            return value
        try:
            version, fields, i = value
            cand = Candidate(name, str(version), dict(fields), self.sources[int(i)])
        except (ValueError, TypeError, IndexError):
            raise LockError(f"the cached Debian package universe is damaged ({name})",
                            where=str(index.cache_dir() / "universes"), fix="delete that directory and lock again") from None
        super().__setitem__(name, cand)
        return cand

    def get(self, name: str, default: Candidate | None = None) -> Candidate | None:  # type: ignore[override]
        return self[name] if name in self else default


def _store_universe(key: str, universe: Universe, sources: list[AptSource]) -> None:
    """Best effort: an unwritable cache only costs speed."""
    where = {source: i for i, source in enumerate(sources)}
    data = {"candidates": {n: [c.version, c.fields, where[c.source]] for n, c in universe.candidates.items()},
            "provides": universe.provides}
    with contextlib.suppress(OSError):
        write_atomic(_universe_path(key), json.dumps(data, separators=(",", ":")).encode())
        index.prune(_universe_path(key).parent)


def resolve_debs(
    suite: str,
    packages: list[str],
    *,
    mirror: str | None = None,
    security_mirror: str | None = None,
    progress: Progress | None = None,
    arch: str = "amd64",
    apt_root: Path = Path("/etc/apt"),
    build_packages: list[str] = (),
) -> DebResolution:
    """Pin `packages` and their Depends/Pre-Depends closure from `suite`, `suite`-updates and `suite`-security.

    Mirrors come from the apt configuration under `apt_root`, or from `mirror` (release + updates) and
    `security_mirror` (security); see cognix.lock.debian.sources. `build_packages` (a compiler toolchain) are
    resolved with `packages` from the same suites; what they add comes back as `build_debs`.
    """
    progress = progress or Silent()
    sources = family_sources(suite, mirror=mirror, security_mirror=security_mirror, apt_root=apt_root)
    universe = load_universe(sources, arch=arch, progress=progress)
    debs = resolve_universe(universe, packages, arch=arch)
    build_debs: list[Deb] = []
    if build_packages:
        image = {d.package for d in debs}
        both = resolve_universe(universe, sorted(set(packages) | set(build_packages)), arch=arch)
        build_debs = [d for d in both if d.package not in image]
    return DebResolution(debs=debs, build_debs=build_debs, mirror=sources[0].uri,
                         release_dates=dict(sorted(universe.dates.items())))
