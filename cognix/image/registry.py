"""Push a plan to a registry over the OCI distribution API, uploading only the blobs it lacks.

The manifest is an OCI image manifest (accepted by docker-registry >= 2.7 and pulled by Docker >= 20.10),
byte-identical to the one in `write_oci_layout`, so the pushed digest equals the layout's. Credentials
come from the user's docker config ($DOCKER_CONFIG/config.json or ~/.docker/config.json: `auths`,
`credHelpers`, `credsStore`); a 401 with a Bearer challenge runs the token flow. Registries on
localhost/127.0.0.1/::1 speak http, others https unless `insecure=True`.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cognix.errors import ImageError
from cognix.image.cache import LayerCache
from cognix.image.config import (
    OCI_MANIFEST,
    config_bytes,
    epoch,
    oci_manifest,
    sha256_digest,
)
from cognix.image.layers import Blob, cached_blob, layer_infos, write_blob
from cognix.image.plan import ImagePlan, Layer
from cognix.progress import Progress, Silent

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]"}


@dataclass(frozen=True)
class Reference:
    registry: str  # "host[:port]"
    repository: str  # "user/model"
    tag: str  # tag or "sha256:..." digest


@dataclass
class PushResult:
    reference: str
    manifest_digest: str
    uploaded: list[str] = field(default_factory=list)  # blob digests sent, in push order
    skipped: list[str] = field(default_factory=list)  # blob digests the registry already had


def parse_reference(ref: str) -> Reference:
    """`host[:port]/name[:tag|@digest]`; the registry host is required (no implicit default registry)."""
    first, slash, rest = ref.partition("/")
    if not slash or not ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        raise ImageError(
            f"image reference {ref!r} names no registry host",
            fix="write the registry in front, e.g. localhost:5000/my-model:latest or registry.example.com/me/model",
        )
    if "@" in rest:
        repository, _, tag = rest.partition("@")
    else:
        repository, sep, tag = rest.rpartition(":")
        if not sep or "/" in tag:
            repository, tag = rest, "latest"
    if not re.fullmatch(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*", repository):
        raise ImageError(f"invalid repository name {repository!r} in {ref!r}", fix="use lower-case letters, digits, . _ - /")
    return Reference(first, repository, tag)


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


class _Client:
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
                raise ImageError(f"cannot reach registry {self.ref.registry}: {err}", fix="check the address, or pass --insecure for a plain-http registry") from err
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

    def upload(self, digest: str, source, size: int) -> None:
        """Monolithic upload: POST for a session, then one PUT with the body and its digest."""
        start = self.check(self.request("POST", f"{self.base}/blobs/uploads/"), "starting an upload")
        location = start.headers.get("location")
        if not location:
            raise ImageError(f"registry {self.ref.registry} gave no upload location")
        url = httpx.URL(self.base).join(location)
        url = url.copy_merge_params({"digest": digest})
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        self.check(self.request("PUT", str(url), content=source, headers=headers), f"uploading blob {digest}")

    def put_manifest(self, manifest: bytes) -> str:
        response = self.request(
            "PUT", f"{self.base}/manifests/{self.ref.tag}", content=manifest, headers={"Content-Type": OCI_MANIFEST}
        )
        self.check(response, "the manifest upload")
        return response.headers.get("docker-content-digest") or sha256_digest(manifest)


def push(
    plan: ImagePlan,
    ref: str,
    *,
    insecure: bool = False,
    cache: LayerCache | None = None,
    progress: Progress | None = None,
) -> PushResult:
    """Push the image to `ref` (host[:port]/name[:tag]); blobs the registry has are skipped."""
    reference = parse_reference(ref)
    cache = cache or LayerCache()
    progress = progress or Silent()
    mtime = epoch(plan.created)
    infos = layer_infos(plan.layers, mtime, cache, progress)
    client = _Client(reference, insecure)
    try:
        return _push(plan, client, ref, infos, mtime, cache, progress)
    finally:
        client.http.close()


def _push(plan, client: _Client, ref: str, infos, mtime: int, cache: LayerCache, progress: Progress) -> PushResult:
    result = PushResult(reference=ref, manifest_digest="")
    with tempfile.TemporaryDirectory(prefix="cognix-push-") as tmp:
        descriptors: list[tuple[str, int]] = []
        progress.start("pushing layers", len(plan.layers))
        for index, layer in enumerate(plan.layers):
            blob = cached_blob(layer, mtime, cache)
            if blob is not None and blob.digest in result.uploaded + result.skipped:
                descriptors.append((blob.digest, blob.size))
            elif blob is not None and client.has_blob(blob.digest):
                result.skipped.append(blob.digest)
                descriptors.append((blob.digest, blob.size))
            else:
                blob = _compress_and_upload(client, layer, mtime, cache, Path(tmp) / f"layer-{index}", result)
                descriptors.append((blob.digest, blob.size))
            progress.advance()
        progress.done()
        config = config_bytes(plan, [i.diff_id for i in infos])
        config_digest = sha256_digest(config)
        if client.has_blob(config_digest):
            result.skipped.append(config_digest)
        else:
            client.upload(config_digest, config, len(config))
            result.uploaded.append(config_digest)
        result.manifest_digest = client.put_manifest(oci_manifest(config, descriptors))
    return result


def _compress_and_upload(
    client: _Client, layer: Layer, mtime: int, cache: LayerCache, path: Path, result: PushResult
) -> Blob:
    """Compress to a temp file (digest first, then the body: registries need the digest in the PUT)."""
    try:
        with open(path, "wb") as handle:
            _, blob = write_blob(layer, mtime, handle, cache)
    except OSError as err:
        raise ImageError(f"cannot write a temporary layer file: {err}") from err
    if blob.digest in result.uploaded + result.skipped:
        return blob
    if client.has_blob(blob.digest):
        result.skipped.append(blob.digest)
    else:
        with open(path, "rb") as source:
            client.upload(blob.digest, source, blob.size)
        result.uploaded.append(blob.digest)
    path.unlink()
    return blob
