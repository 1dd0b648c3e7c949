"""Where weight files come from: the model directory, an https URL, a GCS prefix, or a hub repo id.

Each source kind lists its files (relative path, source, size, version tag) and can stream one file's bytes.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx

from cognix.config.globs import gitignore_match
from cognix.errors import WeightsError
from cognix.lock.model import WeightFile
from cognix.progress import Progress
from cognix.store.cache import cached
from cognix.weights.gcs import gcs_call, parse_gs, storage_client
from cognix.weights.hashing import HashCache, StoreWriter

HF_ENDPOINT_ENV = "COGNIX_HF_ENDPOINT"
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w.\-/%]+)?$")
_TIMEOUT = httpx.Timeout(60.0, connect=20.0)


@dataclass(frozen=True)
class Candidate:
    path: str  # posix, relative to the entry's dest
    source: str  # model-dir-relative path, https URL or gs:// URI
    kind: str  # "local" | "url" | "gs"
    size: int | None = None
    etag: str | None = None


def kind_of(src: str, model_dir: Path) -> str:
    if src.startswith("gs://"):
        return "gs"
    if src.startswith("hf://"):
        return "hf"  # Cog's spelling of a hub repo (hf://owner/name[@revision])
    if src.startswith(("https://", "http://")):
        return "url"
    if "://" in src:
        raise WeightsError(f"unsupported weights source {src!r}",
                           fix="use an https URL, gs://bucket/prefix, a path in the model directory or owner/name")
    if (model_dir / src).exists():
        return "local"
    if _REPO_ID.match(src):
        return "hf"
    raise WeightsError(f"weights source {src!r} is neither a path in the model directory nor a repo id",
                       where=str(model_dir), fix="create the path, or write owner/name[@revision] for a hub repo")


def select(candidates: list[Candidate], include: list[str], exclude: list[str],
           globs: str = "fnmatch") -> list[Candidate]:
    """include/exclude globs on the relative posix path, exclude wins: fnmatch (cognix's) or gitignore-style
    (Cog's weights entries, as go-gitignore matches them)."""
    def matches(path: str, patterns: list[str]) -> bool:
        if globs == "gitignore":
            return gitignore_match(patterns, path)
        return any(fnmatchcase(path, g) for g in patterns)

    out = []
    for c in candidates:
        if include and not matches(c.path, include):
            continue
        if matches(c.path, exclude):
            continue
        out.append(c)
    return sorted(out, key=lambda c: c.path)


def list_files(src: str, model_dir: Path, *, client: httpx.Client) -> list[Candidate]:
    kind = kind_of(src, model_dir)
    if kind == "local":
        return _list_local(src, model_dir)
    if kind == "url":
        return [_list_url(src, client)]
    if kind == "gs":
        return _list_gs(src)
    return _list_hf(src, client)


def _list_local(src: str, model_dir: Path) -> list[Candidate]:
    root = model_dir / src
    if root.resolve() != model_dir.resolve() and model_dir.resolve() not in root.resolve().parents:
        raise WeightsError(f"{src!r} leaves the model directory", where=str(model_dir))
    rel_src = posixpath.normpath(src)
    if root.is_file():
        return [Candidate(path=root.name, source=rel_src, kind="local")]
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in files:
            full = Path(dirpath, name)
            if full.is_symlink() or not full.is_file():
                continue
            rel = full.relative_to(root).as_posix()
            out.append(Candidate(path=rel, source=posixpath.join(rel_src, rel), kind="local"))
    return out


def _list_url(url: str, client: httpx.Client) -> Candidate:
    path = urlsplit(url).path
    if path.endswith("/") or not posixpath.basename(path):
        raise WeightsError(f"{url} names a directory; an https source must be one file",
                           fix="list one entry per file URL, or use gs://bucket/prefix or a repo id for a set")
    size = etag = None
    try:
        head = client.head(url)
        if head.status_code == 200:
            size = int(head.headers["content-length"]) if "content-length" in head.headers else None
            etag = head.headers.get("etag")
    except httpx.HTTPError:
        pass  # the download below reports the failure properly
    return Candidate(path=unquote(posixpath.basename(path)), source=url, kind="url", size=size, etag=etag)


def _list_gs(uri: str) -> list[Candidate]:
    bucket, prefix = parse_gs(uri)
    client = storage_client()
    blobs = gcs_call(f"listing {uri}", bucket, lambda: list(client.list_blobs(bucket, prefix=prefix)))
    out = []
    base = prefix.rstrip("/")
    for blob in blobs:
        name = blob.name
        if name.endswith("/"):
            continue  # a "folder" placeholder
        if name == prefix:
            rel = posixpath.basename(name)
        elif not base or name.startswith(base + "/"):
            rel = name[len(base) + 1:] if base else name
        else:
            continue  # gs://b/model matches model-v2/x as a prefix; only whole path components count
        out.append(Candidate(path=rel, source=f"gs://{bucket}/{name}", kind="gs", size=blob.size,
                             etag=str(blob.generation) if blob.generation else blob.etag))
    return out


def hf_endpoint() -> str:
    endpoint = os.environ.get(HF_ENDPOINT_ENV, "").rstrip("/")
    if not endpoint:
        raise WeightsError(f"a repo id weights source needs the hub's base URL in ${HF_ENDPOINT_ENV}",
                           fix=f"export {HF_ENDPOINT_ENV}=https://<your hub or mirror>")
    return endpoint


def _hf_headers() -> dict[str, str]:
    token = os.environ.get("COGNIX_HF_TOKEN") or os.environ.get("HF_TOKEN")
    return {"authorization": f"Bearer {token}"} if token else {}


def _list_hf(src: str, client: httpx.Client) -> list[Candidate]:
    endpoint = hf_endpoint()
    repo, _, rev = src.removeprefix("hf://").partition("@")
    rev = rev or "main"
    headers = _hf_headers()
    # Pin a branch/tag to its commit so the recorded URLs keep naming the same bytes.
    try:
        info = client.get(f"{endpoint}/api/models/{repo}/revision/{quote(rev, safe='')}", headers=headers)
        if info.status_code == 200 and isinstance(info.json().get("sha"), str):
            rev = info.json()["sha"]
    except (httpx.HTTPError, ValueError):
        pass
    url: str | None = f"{endpoint}/api/models/{repo}/tree/{quote(rev, safe='')}?recursive=1"
    items: list[dict[str, Any]] = []
    while url:
        try:
            resp = client.get(url, headers=headers)
        except httpx.HTTPError as err:
            raise WeightsError(f"listing {src} failed: {err}", where=endpoint) from None
        if resp.status_code != 200:
            raise WeightsError(f"listing {src} failed: HTTP {resp.status_code}", where=url,
                               fix="check the repo id and revision, and COGNIX_HF_TOKEN for private repos")
        try:
            items.extend(resp.json())
        except ValueError:
            raise WeightsError(f"listing {src} failed: the hub answered with no JSON", where=url,
                               fix="check COGNIX_HF_ENDPOINT points at a Hugging Face-compatible hub") from None
        url = resp.links.get("next", {}).get("url")  # the hub pages long listings with Link headers
    out = []
    for item in items:
        if item.get("type") != "file":
            continue
        lfs = item.get("lfs") or {}
        out.append(Candidate(
            path=item["path"], kind="url",
            source=f"{endpoint}/{repo}/resolve/{quote(rev, safe='')}/{quote(item['path'])}",
            size=lfs.get("size", item.get("size")), etag=lfs.get("oid") or item.get("oid"),
        ))
    return out


def download(c: Candidate, *, client: httpx.Client, progress: Progress | None) -> tuple[str, int, Path]:
    """Stream a remote file into the store, hashing as it arrives; (sha256, size, stored path)."""
    writer = StoreWriter(c.path, progress, c.size)
    try:
        if c.kind == "gs":
            bucket, name = parse_gs(c.source)
            gclient = storage_client()
            gcs_call(f"downloading {c.source}", bucket,
                     lambda: gclient.bucket(bucket).blob(name).download_to_file(writer))
        else:
            headers = _hf_headers() if _is_hf(c.source) else {}
            with client.stream("GET", c.source, headers=headers) as resp:
                if resp.status_code != 200:
                    raise WeightsError(f"downloading {c.path} failed: HTTP {resp.status_code}", where=c.source)
                writer.feed(resp.iter_bytes(1 << 20))
    except httpx.HTTPError as err:
        writer.abort()
        raise WeightsError(f"downloading {c.path} failed: {err}", where=c.source) from None
    except BaseException:
        writer.abort()
        raise
    return writer.commit()


def _is_hf(url: str) -> bool:
    endpoint = os.environ.get(HF_ENDPOINT_ENV, "").rstrip("/")
    return bool(endpoint) and url.startswith(endpoint + "/")


def http_client() -> httpx.Client:
    return httpx.Client(follow_redirects=True, timeout=_TIMEOUT)


def materialise(f: WeightFile, model_dir: Path, *, hashes: HashCache | None = None,
                progress: Progress | None = None) -> Path:
    """A verified local file with f's bytes: the model-dir file itself, or the store blob (fetched if needed)."""
    if "://" not in f.source:
        path = model_dir / f.source
        if not path.is_file():
            raise WeightsError(f"weights file {f.source} is missing", where=str(model_dir),
                               fix="restore it, or run `cognix lock` again")
        sha, size = (hashes or HashCache()).sha256(path, progress)
        if (sha, size) != (f.sha256, f.size):
            raise WeightsError(f"weights file {f.source} changed since it was locked",
                               where=str(model_dir), fix="run `cognix lock` again")
        return path
    if hit := cached(f.sha256, f.size):
        return hit
    kind = "gs" if f.source.startswith("gs://") else "url"
    with http_client() as client:
        sha, size, path = download(Candidate(path=f.path, source=f.source, kind=kind, size=f.size),
                                   client=client, progress=progress)
    if (sha, size) != (f.sha256, f.size):
        raise WeightsError(f"{f.source} changed since it was locked (sha256 {sha}, expected {f.sha256})",
                           fix="run `cognix lock` again if the change is expected")
    return path
