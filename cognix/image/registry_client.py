"""An OCI distribution client: the registry's auth dance (docker config credentials, Bearer tokens on 401), blob
checks, and blob uploads that survive dropped connections.

Large blobs go up in chunks (POST a session, PATCH each chunk with its Content-Range, PUT ?digest= to finish); when
a connection drops, the session's status (GET: Range 0-N) says how much the registry kept, and the upload goes on
from there instead of starting over. docker-registry keeps a session only while its token matches what it holds:
a drop between chunks resumes, one inside a chunk (part of it stored) makes it drop the session, and that blob
starts again. Small blobs (the config) are one monolithic PUT.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx

from cognix.errors import ImageError
from cognix.image.config import OCI_MANIFEST, sha256_digest

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]"}
CHUNK = 16 << 20  # bytes per PATCH: what a dropped connection can cost at most
RESUME_ATTEMPTS = 8  # dropped connections one blob's upload survives


@dataclass(frozen=True)
class Reference:
    registry: str  # "host[:port]"
    repository: str  # "user/model"
    tag: str  # tag or "sha256:..." digest


class RegistryUnreachable(ImageError):
    """The connection failed or dropped (as opposed to the registry answering with an error)."""


def _docker_config() -> dict:
    base = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    try:
        return json.loads(Path(base, "config.json").read_text())
    except (OSError, ValueError):
        return {}


def credentials(registry: str) -> tuple[str, str] | None:
    """(user, password) for `registry` from the docker config, or None."""
    config = _docker_config()
    helper = config.get("credHelpers", {}).get(registry) or config.get("credsStore")
    if helper:
        try:
            proc = subprocess.run(
                [f"docker-credential-{helper}", "get"], input=registry, capture_output=True, text=True, timeout=30
            )
            if proc.returncode == 0:
                data = json.loads(proc.stdout)
                return data["Username"], data["Secret"]
        except (OSError, ValueError, KeyError, subprocess.SubprocessError):
            pass
    for key, value in config.get("auths", {}).items():
        host = re.sub(r"^https?://", "", key).split("/")[0]
        if host != registry or not isinstance(value, dict):
            continue
        if value.get("auth"):
            user, _, password = base64.b64decode(value["auth"]).decode().partition(":")
            return user, password
        if value.get("username"):
            return value["username"], value.get("password", "")
    return None


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, params = header.partition(" ")
    return scheme.lower(), dict(re.findall(r'(\w+)="([^"]*)"', params))


class Client:
    """httpx with the registry's auth dance: basic credentials, or a Bearer token fetched on 401."""

    def __init__(self, ref: Reference, insecure: bool, transport: httpx.BaseTransport | None = None) -> None:
        host = ref.registry.rsplit(":", 1)[0] if not ref.registry.startswith("[") else ref.registry.split("]")[0] + "]"
        scheme = "http" if insecure or host in _LOCAL_HOSTS else "https"
        self.ref = ref
        self.base = f"{scheme}://{ref.registry}/v2/{ref.repository}"
        self.http = httpx.Client(
            timeout=httpx.Timeout(60.0, connect=15.0), follow_redirects=True, transport=transport
        )
        self.creds = credentials(ref.registry)
        self.auth: str | None = None

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        for attempt in range(2):
            headers = dict(kwargs.pop("headers", {}) or {})
            if self.auth:
                headers["Authorization"] = self.auth
            content = kwargs.get("content")
            if hasattr(content, "seek"):
                content.seek(0)
            try:
                response = self.http.request(method, url, headers=headers, **kwargs)
            except httpx.HTTPError as err:
                raise RegistryUnreachable(f"cannot reach registry {self.ref.registry}: {err}",
                                          fix="check the address, or pass --insecure for a plain-http registry") from err
            kwargs["headers"] = headers
            if response.status_code != 401 or attempt:
                return response
            self._authenticate(response.headers.get("www-authenticate", ""))
        return response

    def _authenticate(self, header: str) -> None:
        scheme, params = _challenge(header)
        if scheme == "basic" and self.creds:
            self.auth = "Basic " + base64.b64encode(":".join(self.creds).encode()).decode()
        elif scheme == "bearer" and "realm" in params:
            query = {"service": params.get("service", "")}
            query["scope"] = params.get("scope") or f"repository:{self.ref.repository}:pull,push"
            try:
                response = self.http.get(params["realm"], params=query, auth=self.creds)
            except httpx.HTTPError as err:
                raise ImageError(f"cannot reach the token service of {self.ref.registry}: {err}") from err
            if response.status_code != 200:
                raise ImageError(
                    f"registry {self.ref.registry} refused a token ({response.status_code}): {response.text[:300]}",
                    fix=f"docker login {self.ref.registry}",
                )
            try:
                body = response.json()
            except ValueError:
                raise ImageError(f"the token service of {self.ref.registry} answered with no JSON",
                                 fix="check the registry address") from None
            self.auth = "Bearer " + (body.get("token") or body.get("access_token") or "")

    def check(self, response: httpx.Response, what: str) -> httpx.Response:
        if response.status_code >= 400:
            fix = f"docker login {self.ref.registry}" if response.status_code in (401, 403) else None
            raise ImageError(
                f"registry {self.ref.registry} answered {response.status_code} to {what}: {response.text[:500]}",
                fix=fix,
            )
        return response

    def has_blob(self, digest: str) -> bool:
        response = self.request("HEAD", f"{self.base}/blobs/{digest}")
        if response.status_code == 404:
            return False
        self.check(response, f"HEAD blob {digest}")
        return True

    def upload(self, digest: str, source: bytes, size: int) -> None:
        """Monolithic upload: POST for a session, then one PUT with the body and its digest."""
        url = self._session()
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        self.check(self.request("PUT", str(url.copy_merge_params({"digest": digest})), content=source,
                                headers=headers), f"uploading blob {digest}")

    def upload_file(self, digest: str, path: Path, size: int, *, sent: list[int] | None = None) -> None:
        """Chunked, resumable upload of a file; `sent` (if given) collects the bytes each PATCH carried."""
        url = self._session()
        offset = 0
        drops = 0
        with path.open("rb") as source:
            while offset < size:
                try:
                    url, offset = self._patch(url, source, offset, min(CHUNK, size - offset), sent)
                except RegistryUnreachable:
                    drops += 1
                    if drops > RESUME_ATTEMPTS:
                        raise
                    time.sleep(min(0.1 * 2 ** drops, 5.0))
                    url, offset = self._resume_point(url)
        self.check(self.request("PUT", str(url.copy_merge_params({"digest": digest})),
                                headers={"Content-Length": "0"}), f"finishing blob {digest}")

    def _session(self) -> httpx.URL:
        start = self.check(self.request("POST", f"{self.base}/blobs/uploads/"), "starting an upload")
        location = start.headers.get("location")
        if not location:
            raise ImageError(f"registry {self.ref.registry} gave no upload location")
        return httpx.URL(self.base).join(location)

    def _patch(self, url: httpx.URL, source: BinaryIO, offset: int, length: int,
               sent: list[int] | None) -> tuple[httpx.URL, int]:
        source.seek(offset)
        data = source.read(length)
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(len(data)),
                   "Content-Range": f"{offset}-{offset + len(data) - 1}"}
        if sent is not None:
            sent.append(len(data))
        response = self.check(self.request("PATCH", str(url), content=data, headers=headers), "uploading a chunk")
        return self._next(url, response, offset + len(data))

    def _resume_point(self, url: httpx.URL) -> tuple[httpx.URL, int]:
        """Where a dropped upload goes on: the registry's Range says what it kept. A registry that gave the session
        up (docker-registry does when a chunk arrived in part: its session token no longer matches) gets the blob
        again in a new session."""
        response = self.request("GET", str(url))
        if response.status_code in (400, 404):
            return self._session(), 0
        return self._next(url, self.check(response, "asking how far an upload got"), 0)

    def _next(self, url: httpx.URL, response: httpx.Response, default: int) -> tuple[httpx.URL, int]:
        location = response.headers.get("location")
        kept = re.fullmatch(r"(?:bytes=)?0-(\d+)", response.headers.get("range", ""))
        offset = int(kept.group(1)) + 1 if kept else default
        if kept and kept.group(1) == "0" and default == 0:
            # "0-0" is what a registry says for no byte and for one: a status can't tell, so start the blob again
            return self._session(), 0
        return (httpx.URL(self.base).join(location) if location else url), offset

    def put_manifest(self, manifest: bytes) -> str:
        response = self.request(
            "PUT", f"{self.base}/manifests/{self.ref.tag}", content=manifest, headers={"Content-Type": OCI_MANIFEST}
        )
        self.check(response, "the manifest upload")
        return response.headers.get("docker-content-digest") or sha256_digest(manifest)


