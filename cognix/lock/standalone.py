"""Pin a python-build-standalone interpreter: the build uv would install for this Python, by URL and sha256.

The list of builds is uv's own (`uv python list --all-versions --only-downloads --output-format json`), so the
choice follows the uv that cognix pins. uv applies `UV_PYTHON_INSTALL_MIRROR` to the URLs it lists; `--python-mirror`
sets it for this lock. The sha256 comes from the release's SHA256SUMS next to the archive, else from hashing the
download itself; the size from the server. Nothing here unpacks anything (the store does).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx
from packaging.version import InvalidVersion, Version

from cognix.errors import LockError
from cognix.lock.debian.suites import debian_offers
from cognix.lock.model import StandalonePython
from cognix.lock.python import remote_size_and_hash, uv_bin
from cognix.progress import Progress, Silent

MIRROR_ENV = "UV_PYTHON_INSTALL_MIRROR"
# install_only_stripped: the same tree as install_only without debug symbols; both unpack to `python/`.
FLAVOURS = ("-install_only_stripped.tar.gz", "-install_only.tar.gz")
TIMEOUT_S = 30


@dataclass(frozen=True)
class Download:
    version: Version
    url: str
    filename: str
    release: str  # the directory the archive sits in: python-build-standalone's release tag

    @property
    def stripped(self) -> bool:
        return self.filename.endswith(FLAVOURS[0])


def _mirror_fix() -> str:
    return (f"pass --python-mirror URL (or set {MIRROR_ENV}) to a mirror of python-build-standalone's release "
            f"downloads, or use a python_version Debian ships: {debian_offers()}")


def _arch(entry: dict) -> str:
    arch = entry.get("arch")
    return str(arch.get("family", "")) if isinstance(arch, dict) else str(arch or "")


def parse_listing(text: str) -> list[Download]:
    """uv's JSON listing -> the default-variant CPython builds for linux x86_64 glibc, install_only layouts."""
    try:
        entries = json.loads(text)
    except ValueError as err:
        raise LockError(f"uv's Python download list is not JSON ({err})") from None
    out: list[Download] = []
    for entry in entries if isinstance(entries, list) else []:
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str) or not url:
            continue
        if (entry.get("implementation"), entry.get("os"), _arch(entry), entry.get("libc"), entry.get("variant")) != (
                "cpython", "linux", "x86_64", "gnu", "default"):
            continue
        path = urlsplit(url).path
        filename = unquote(path.rsplit("/", 1)[-1])
        if not filename.endswith(FLAVOURS):
            continue  # old releases' full .tar.zst archives have another layout
        try:
            version = Version(str(entry.get("version", "")))
        except InvalidVersion:
            continue
        out.append(Download(version, url, filename, unquote(path.rsplit("/", 2)[-2]) if path.count("/") >= 2 else ""))
    return out


def uv_version() -> str:
    try:
        proc = subprocess.run([uv_bin(), "--version"], capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise LockError(f"cannot run uv: {err}", fix="reinstall cognix (uv is one of its dependencies)") from None
    return proc.stdout.strip() or "uv"


def list_downloads(mirror: str | None = None) -> list[Download]:
    """The builds the pinned uv knows, with the mirror applied to their URLs."""
    env = dict(os.environ, UV_NO_PROGRESS="1", NO_COLOR="1")
    if mirror:
        env[MIRROR_ENV] = mirror.rstrip("/")
    args = [uv_bin(), "python", "list", "--all-versions", "--only-downloads", "--all-platforms",
            "--output-format", "json"]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise LockError(f"`uv python list` did not run: {err}") from None
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise LockError(f"`uv python list` failed: {detail}", fix=_mirror_fix())
    return parse_listing(proc.stdout)


def choose_download(downloads: list[Download], minor: str) -> Download:
    """The newest final release of this minor, the stripped archive when both flavours exist."""
    fits = [d for d in downloads if f"{d.version.major}.{d.version.minor}" == minor and not d.version.is_prerelease]
    if not fits:
        known = sorted({(d.version.major, d.version.minor) for d in downloads if not d.version.is_prerelease})
        offered = ", ".join(f"{a}.{b}" for a, b in known) or "none"
        raise LockError(f"python-build-standalone has no build of Python {minor} for linux x86_64 "
                        f"(uv knows builds of {offered})", where="cog.yaml: build.python_version",
                        fix="choose one of those versions")
    return max(fits, key=lambda d: (d.version, d.stripped))


def _refuse_plain_http(url: str) -> None:
    """No signature covers these archives: over plain http anyone on the way could swap the interpreter and its
    SHA256SUMS together. Loopback (a mirror on this machine) is the exception."""
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise LockError(f"the python-build-standalone mirror {parts.scheme}://{parts.netloc} is plain http",
                        fix="use an https mirror (--python-mirror / UV_PYTHON_INSTALL_MIRROR)")


def parse_sums(text: str) -> dict[str, str]:
    """A SHA256SUMS file (`<hex>  <name>` lines, `*name` for binary mode) -> name: hex."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and len(parts[0]) == 64:
            out[parts[1].lstrip("*")] = parts[0].lower()
    return out


def _published_sha256(download: Download) -> str | None:
    """The archive's sha256 from its release's SHA256SUMS, or None when the mirror has no such file."""
    url = download.url.rsplit("/", 1)[0] + "/SHA256SUMS"
    try:
        with httpx.Client(follow_redirects=True, timeout=TIMEOUT_S) as client:
            resp = client.get(url)
    except httpx.HTTPError as err:
        raise LockError(f"cannot reach the python-build-standalone mirror at {url}: {err}", fix=_mirror_fix()) from None
    if resp.status_code in (403, 404, 410):
        return None
    if resp.status_code != 200:
        raise LockError(f"{url} answered HTTP {resp.status_code}", fix=_mirror_fix())
    return parse_sums(resp.text).get(download.filename)


def lock_standalone(minor: str, *, mirror: str | None = None, progress: Progress | None = None) -> StandalonePython:
    """Pin the python-build-standalone build of `minor` ("3.12") that uv would install."""
    progress = progress or Silent()
    progress.start(f"pinning python-build-standalone {minor}")
    download = choose_download(list_downloads(mirror), minor)
    _refuse_plain_http(download.url)
    sha = _published_sha256(download)
    try:
        size, hashed = remote_size_and_hash(download.url, need_hash=sha is None)
    except LockError as err:
        raise LockError(f"cannot fetch the interpreter archive {download.url}: {err.what}", fix=_mirror_fix()) from None
    progress.done()
    return StandalonePython(version=str(download.version), release=download.release, filename=download.filename,
                            url=download.url, sha256=(sha or hashed or "").lower(), size=size,
                            listed_by=uv_version())
