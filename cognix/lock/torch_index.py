"""The PyTorch index: its base URL, whether it answers, and its project pages (PEP 503 links to wheel files)."""

from __future__ import annotations

import html.parser
import os
import threading
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

import httpx
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from cognix.errors import LockError
from cognix.lock.index import is_remote
from cognix.lock.model import Target
from cognix.lock.target import supported_tags

DEFAULT_TORCH_INDEX = "https://download.pytorch.org/whl"  # Cog's: <base>/cu118, <base>/cpu
TORCH_INDEX_ENV = "COGNIX_TORCH_INDEX_URL"
PROBE_TIMEOUT = httpx.Timeout(3.0, connect=2.0)
PAGE_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


# ---- the PyTorch index: base, probe, project pages -----------------------------------------------------------------

def torch_index_base(option: str | None = None) -> str:
    """The PyTorch index base URL: the option, else $COGNIX_TORCH_INDEX_URL, else Cog's."""
    base = (option or os.environ.get(TORCH_INDEX_ENV) or DEFAULT_TORCH_INDEX).strip().rstrip("/")
    if not is_remote(base):
        raise LockError(f"the PyTorch index {base!r} is not an http(s) URL",
                        fix=f"pass --torch-index (or set ${TORCH_INDEX_ENV}) to an http(s) URL, or leave it unset")
    return base


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str


_lock = threading.Lock()
_reachable: dict[str, bool] = {}
_pages: dict[str, list[IndexFile] | None] = {}


def reachable(base: str) -> bool:
    """Whether the index at `base` answers at all: one short HEAD request per base, remembered for the process."""
    with _lock:
        if base in _reachable:
            return _reachable[base]
    try:
        with httpx.Client(timeout=PROBE_TIMEOUT, follow_redirects=True) as client:
            ok = client.head(base + "/").status_code < 500
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, OSError):
        ok = False
    with _lock:
        _reachable[base] = ok
    return ok


def forget_probes() -> None:
    """Drop remembered probes and pages (for tests and long-lived processes)."""
    with _lock:
        _reachable.clear()
        _pages.clear()


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def parse_page(text: str, page_url: str) -> list[IndexFile]:
    """A PEP 503 project page (or any page of links) -> its files, URLs made absolute."""
    parser = _Links()
    parser.feed(text)
    out = []
    for href in parser.hrefs:
        url = urljoin(page_url, href)
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        if name:
            out.append(IndexFile(filename=name, url=url))
    return out


def project_page(url: str) -> list[IndexFile] | None:
    """The files a project page lists, or None when it can't be read (remembered for the process)."""
    with _lock:
        if url in _pages:
            return _pages[url]
    try:
        with httpx.Client(timeout=PAGE_TIMEOUT, follow_redirects=True) as client:
            resp = client.get(url, headers={"Accept": "text/html"})
        files = parse_page(resp.text, str(resp.url)) if resp.status_code == 200 else None
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, OSError):
        files = None
    with _lock:
        _pages[url] = files
    return files


def page_versions(files: list[IndexFile], project: str, target: Target) -> list[Version]:
    """Versions of `project` on a page that have a wheel the target can install, newest first."""
    accepted = set(supported_tags(target))
    found: set[Version] = set()
    for f in files:
        try:
            name, version, _, wheel_tags = parse_wheel_filename(f.filename)
        except (InvalidWheelFilename, InvalidVersion):
            continue
        if name == canonicalize_name(project) and accepted & set(wheel_tags):
            found.add(version)
    return sorted(found, reverse=True)


