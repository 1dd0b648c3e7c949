"""Resolve the model's (and the runtime's) Python requirements to exactly one wheel per package, with uv.

uv is run twice on the same inputs: `--format pylock.toml` gives every candidate file of each chosen version with
URL, size and sha256; the requirements.txt output's `# via` annotations give the dependency edges, already
evaluated for the target's python and platform. Both are read as data; uv's resolver does the solving.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
from packaging.tags import Tag
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)

from cognix.errors import LockError
from cognix.lock.index import IndexConfig, is_remote, redact
from cognix.lock.model import Target, Wheel
from cognix.lock.target import supported_tags, uv_platform
from cognix.progress import Progress, Silent

# Environment variables through which uv would pick up indexes or find-links behind our back.
_UV_INDEX_ENV = ("UV_INDEX", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS",
                 "UV_NO_INDEX", "UV_CONFIG_FILE", "UV_CONSTRAINT", "UV_OVERRIDE", "UV_BUILD_CONSTRAINT")


@dataclass(frozen=True)
class Candidate:
    """One file the index offers for a chosen version."""

    filename: str
    url: str
    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class SourcePin:
    """A package the index offers for the target only as a source distribution: its wheel is built later."""

    name: str
    version: str
    sdist: Candidate  # sha256 and size known
    dependencies: list[str]
    requested: bool


@dataclass(frozen=True)
class Resolution:
    wheels: list[Wheel]
    index_urls: list[str]  # the indexes uv resolved against (no credentials)
    sources: list[SourcePin] = field(default_factory=list)  # sdist-only packages, sorted by name


# Build constraints for sdists (uv's metadata builds and cognix's own): setuptools 82 removed pkg_resources, which
# the setup.py of many sdists still import; those sdists were written against a setuptools that had it.
BUILD_CONSTRAINTS = ["setuptools<82"]


@dataclass(frozen=True)
class RequirementSet:
    """Plain requirement lines plus the index options found among them."""

    lines: list[str]
    index_url: str | None
    extra_index_urls: list[str]
    find_links: list[str]


_OPTION = re.compile(r"^(--index-url|-i|--extra-index-url|--find-links|-f)(?:\s*=\s*|\s+)(\S+)\s*$")


def split_options(lines: list[str]) -> RequirementSet:
    """Separate index options from requirement lines; other pip options have no meaning for a wheel lock."""
    reqs: list[str] = []
    index: str | None = None
    extras: list[str] = []
    links: list[str] = []
    for raw in lines:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        match = _OPTION.match(line)
        if match:
            flag, value = match.groups()
            if flag in ("--index-url", "-i"):
                index = value
            elif flag == "--extra-index-url":
                extras.append(value)
            else:
                links.append(value)
        elif line.startswith("-"):
            raise LockError(f"unsupported requirements option: {line!r}",
                            fix="only --index-url, --extra-index-url and --find-links (http) are supported")
        else:
            reqs.append(line)
    return RequirementSet(reqs, index, extras, links)


def uv_options(options: list[str]) -> list[str]:
    """pip resolver options from the model's requirements, as uv arguments (wheel-only options are implied)."""
    out: list[str] = []
    for option in options:
        flag, _, value = option.partition(" ")
        value = value.strip()
        if flag == "--pre":
            out += ["--prerelease", "allow"]
        elif flag == "--no-index":
            out.append("--no-index")
        elif flag == "--trusted-host" and value:
            out += ["--allow-insecure-host", value]
        elif flag == "--no-binary" and value not in ("", ":none:"):
            raise LockError(f"requirements ask for `--no-binary {value}`, but cognix installs wheels only",
                            fix="remove the --no-binary option")
        # --only-binary, --prefer-binary, --require-hashes: a wheel-only, hash-pinned lock already does this.
    return out


def uv_bin() -> str:
    try:
        import uv
    except ImportError as err:  # pragma: no cover - uv is a declared dependency
        raise LockError("the `uv` package is not installed", fix="pip install uv") from err
    return uv.find_uv_bin()


def _uv_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _UV_INDEX_ENV}
    env["UV_NO_PROGRESS"] = "1"
    env["NO_COLOR"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"  # metadata builds of sdists use the machine's python, never a download
    return env


def common_args(target: Target, index: IndexConfig, find_links: list[str], options: list[str],
                 *, sdists: frozenset[str] = frozenset()) -> list[str]:
    """uv's arguments: wheels only, but for the `sdists` packages, which are taken from source."""
    args = [*uv_options(options), "--no-config", "--python-version", target.python_version,
            "--python-platform", uv_platform(target), "--no-header", "--quiet", "--only-binary", ":all:"]
    for name in sorted(sdists):
        args += ["--no-binary", name]
    if sdists:
        args += ["--build-constraint", "build-constraints.txt"]
    if index.index_url:
        args += ["--index-url", index.index_url]
    for url in index.extra_index_urls:
        args += ["--extra-index-url", url]
    for url in find_links:
        if not is_remote(url):
            raise LockError(f"find-links {url!r} is machine-local", fix="use an http(s) index or find-links URL")
        args += ["--find-links", url]
    return args


def run_uv(args: list[str], cwd: Path) -> str:
    try:
        proc = subprocess.run([uv_bin(), "pip", "compile", *args], cwd=cwd, env=_uv_env(), capture_output=True,
                              text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise LockError(
            "resolving the Python requirements took more than 10 minutes",
            fix="check the network and the index (pip/uv configuration), then run `cognix lock` again",
        ) from None
    if proc.returncode != 0:
        raise resolution_error(proc.stderr)
    return proc.stdout


_NO_WHEEL = [
    re.compile(r"Wheels are required for `([^`]+)`"),
    re.compile(r"all versions of ([A-Za-z0-9_.\-]+) have no usable wheels"),
    re.compile(r"([A-Za-z0-9_.\-]+)(?:==\S+)? has no usable wheels"),
]


class NoWheelError(LockError):
    """A package has no wheel for the target: resolving again with sdists allowed may still succeed."""

    def __init__(self, package: str) -> None:
        self.package = package
        super().__init__(
            f"{package} has no wheel for the image's platform (linux x86_64, this Python); it is published only "
            "as a source distribution or for other platforms",
            fix=f"pin a version of {package} that ships a compatible wheel, or remove it")


def resolution_error(stderr: str) -> LockError:
    """uv's failure as one LockError: names an sdist-only package, otherwise uv's explanation, condensed."""
    for pattern in _NO_WHEEL:
        match = pattern.search(stderr)
        if match:
            return NoWheelError(match.group(1))
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    text = " ".join(re.sub(r"^(error|cause|hint):\s*", "", ln) for ln in lines) or "uv failed without a message"
    return LockError(f"the Python requirements can't be resolved: {text}",
                     fix="loosen or correct the conflicting requirements in cog.yaml / the requirements file")


_PINNED = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._\-]*)(?:\[[^\]]*\])?\s*(?:==\s*(\S+)|@\s*(\S+))\s*(?:#\s*via\s*(.*))?$")


@dataclass(frozen=True)
class Pin:
    """One line of uv's requirements output: what was chosen and who asked for it."""

    version: str | None  # None for a direct URL requirement
    parents: frozenset[str]  # canonical names of the packages that require it
    requested: bool  # named by the model's (or the runtime's) requirement files


def parse_edges(text: str) -> dict[str, Pin]:
    """uv's `--annotation-style line` output -> name: Pin."""
    out: dict[str, Pin] = {}
    for line in text.splitlines():
        match = _PINNED.match(line.strip())
        if not match:
            continue
        name, version, via = canonicalize_name(match.group(1)), match.group(2), match.group(4) or ""
        parents = {p.strip() for p in via.split(",") if p.strip()}
        requested = any(p.startswith(("-r ", "-c ")) for p in parents)
        out[name] = Pin(version, frozenset(canonicalize_name(p) for p in parents if not p.startswith("-")), requested)
    return out


@dataclass(frozen=True)
class Offered:
    """What the index offers for one chosen version: wheel files, and the sdist when there is one."""

    version: str  # "" for a direct URL
    wheels: list[Candidate]
    sdist: Candidate | None = None


def _candidate(f: dict) -> Candidate:
    return Candidate(filename=f.get("name") or unquote(urlsplit(f["url"]).path.rsplit("/", 1)[-1]),
                     url=f["url"], sha256=(f.get("hashes") or {}).get("sha256"), size=f.get("size"))


def parse_pylock(text: str) -> dict[str, Offered]:
    """A PEP 751 pylock.toml -> name: what is offered for the chosen version."""
    data = tomllib.loads(text)
    out: dict[str, Offered] = {}
    for pkg in data.get("packages", []):
        name = canonicalize_name(pkg["name"])
        files = list(pkg.get("wheels", []))
        archive = pkg.get("archive")
        if archive and str(archive.get("url", "")).endswith(".whl"):
            files.append(archive)
        sdist = pkg.get("sdist")
        out[name] = Offered(str(pkg.get("version", "")), [_candidate(f) for f in files if f.get("url")],
                            _candidate(sdist) if isinstance(sdist, dict) and sdist.get("url") else None)
    return out


def choose_wheel(name: str, version: str, candidates: list[Candidate], target: Target,
                 ranking: dict[Tag, int] | None = None) -> Candidate:
    """The one wheel for the target: the most specific compatible tag wins, ties broken by filename."""
    ranking = ranking if ranking is not None else {t: i for i, t in enumerate(supported_tags(target))}
    best: tuple[int, str, Candidate] | None = None
    for cand in candidates:
        try:
            _, _, _, wheel_tags = parse_wheel_filename(cand.filename)
        except InvalidWheelFilename:
            continue
        ranks = [ranking[t] for t in wheel_tags if t in ranking]
        if ranks and (best is None or (min(ranks), cand.filename) < best[:2]):
            best = (min(ranks), cand.filename, cand)
    if best is None:
        raise LockError(
            f"{name}=={version} has no wheel for the target (CPython {target.python_version}, "
            f"{target.platform_tags[0]}); cognix installs wheels only",
            fix=f"pin a version of {name} that ships a compatible wheel, or remove it")
    return best[2]


def remote_size_and_hash(url: str, need_hash: bool) -> tuple[int, str | None]:
    """Size by HEAD, or size and sha256 by streaming the file when the index gave no hash."""
    try:
        with httpx.Client(follow_redirects=True, timeout=60) as client:
            if not need_hash:
                resp = client.head(url)
                resp.raise_for_status()
                if "content-length" in resp.headers:
                    return int(resp.headers["content-length"]), None
            digest, size = hashlib.sha256(), 0
            with client.stream("GET", url) as resp:
                resp.raise_for_status()
                for chunk in resp.iter_bytes(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
            return size, digest.hexdigest()
    except httpx.HTTPError as err:
        raise LockError(f"could not read {redact(url)}: {err}") from err


def resolve_wheels(model_lines: list[str], runtime_lines: list[str], target: Target, index: IndexConfig,
                   *, find_links: list[str] | None = None, options: list[str] | None = None,
                   allow_sdists: bool = True, constraints: list[str] | None = None,
                   progress: Progress | None = None) -> Resolution:
    """Resolve model + runtime requirements for `target` with uv: one wheel per package, sorted by name.

    Wheels only; when a package has no wheel for the target and `allow_sdists`, again with that one package taken
    from its source distribution (uv then reads its metadata, building it with this machine's Python when the sdist
    does not declare it statically), and so on: those packages come back as `sources`, their wheels to be built."""
    progress = progress or Silent()
    progress.start("resolving Python packages")
    sdists: frozenset[str] = frozenset()
    while True:  # each pass takes from source one more package that has no wheel for the target
        try:
            result = _resolve(model_lines, runtime_lines, target, index, find_links or [], options or [],
                              sdists=sdists, constraints=constraints or [])
            break
        except NoWheelError as err:
            name = canonicalize_name(err.package)
            if not allow_sdists or name in sdists or len(sdists) >= _MAX_SDISTS:
                raise
            sdists = sdists | {name}
    progress.done()
    return result


_MAX_SDISTS = 20  # passes, at most: one per sdist-only package


def _resolve(model_lines: list[str], runtime_lines: list[str], target: Target, index: IndexConfig,
             find_links: list[str], options: list[str], *, sdists: frozenset[str],
             constraints: list[str]) -> Resolution:
    args = common_args(target, index, find_links, options, sdists=sdists)
    args += ["--constraint", "constraints.txt"] if constraints else []
    with tempfile.TemporaryDirectory(prefix="cognix-lock-") as tmp:
        cwd = Path(tmp)
        (cwd / "model.in").write_text("".join(f"{ln}\n" for ln in model_lines), encoding="utf-8")
        (cwd / "runtime.in").write_text("".join(f"{ln}\n" for ln in runtime_lines), encoding="utf-8")
        (cwd / "build-constraints.txt").write_text("".join(f"{ln}\n" for ln in BUILD_CONSTRAINTS))
        (cwd / "constraints.txt").write_text("".join(f"{ln}\n" for ln in constraints))
        inputs = ["model.in", "runtime.in"]
        with ThreadPoolExecutor(max_workers=2) as pool:  # the same resolution in two output formats, at once
            edges_run = pool.submit(run_uv, [*args, "--annotation-style", "line", "--emit-index-url", *inputs], cwd)
            pylock_run = pool.submit(run_uv, [*args, "--format", "pylock.toml", "-o", "pylock.toml", *inputs], cwd)
            text = edges_run.result()
            pylock_run.result()
        pylock = parse_pylock((cwd / "pylock.toml").read_text(encoding="utf-8"))
    edges = parse_edges(text)
    if set(edges) != set(pylock) or any(
        pin.version is not None and pin.version != pylock[name].version for name, pin in edges.items()
    ):
        raise LockError("the package index changed while locking (two resolutions differ)", fix="run it again")
    ranking = {t: i for i, t in enumerate(supported_tags(target))}
    deps: dict[str, set[str]] = {name: set() for name in edges}
    for name, pin in edges.items():
        for parent in pin.parents:
            if parent in deps:
                deps[parent].add(name)
    wheels: list[Wheel] = []
    sources: list[SourcePin] = []
    for name in sorted(pylock):
        offered, pin = pylock[name], edges[name]
        try:
            cand = choose_wheel(name, offered.version or "(direct URL)", offered.wheels, target, ranking)
        except LockError:
            if name not in sdists or offered.sdist is None or pin.version is None:
                raise
            sources.append(SourcePin(name, offered.version, _pinned(offered.sdist, name), sorted(deps[name]),
                                     pin.requested))
            continue
        cand = _pinned(cand, name)
        version = offered.version or str(parse_wheel_filename(cand.filename)[1])  # a direct URL's is in its name
        wheels.append(Wheel(name=name, version=version, filename=cand.filename, url=cand.url,
                            sha256=str(cand.sha256), size=int(cand.size or 0), dependencies=sorted(deps[name]),
                            requested=pin.requested, is_direct=pin.version is None))
    return Resolution(wheels=wheels, index_urls=_emitted_indexes(text), sources=sources)


def _pinned(cand: Candidate, name: str) -> Candidate:
    """The candidate with its size and lower-case sha256 (fetched when the index gave none); remote only."""
    if not is_remote(cand.url):
        raise LockError(f"{name} resolved to a machine-local file ({cand.url})",
                        fix="resolve against a remote index; local files can't be pinned in a lock")
    size, sha = cand.size, cand.sha256
    if size is None or not sha:
        fetched_size, fetched_sha = remote_size_and_hash(cand.url, need_hash=not sha)
        size, sha = fetched_size, sha or fetched_sha
    return Candidate(cand.filename, cand.url, str(sha).lower(), int(size))


def _emitted_indexes(text: str) -> list[str]:
    urls = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("--index-url", "--extra-index-url"):
            urls.append(redact(parts[1]))
    return urls
