"""Push a plan to a registry over the OCI distribution API, uploading only the blobs it lacks.

The manifest is an OCI image manifest (accepted by docker-registry >= 2.7 and pulled by Docker >= 20.10),
byte-identical to the one in `write_oci_layout`, so the pushed digest equals the layout's. Credentials
come from the user's docker config ($DOCKER_CONFIG/config.json or ~/.docker/config.json: `auths`,
`credHelpers`, `credsStore`); a 401 with a Bearer challenge runs the token flow. Registries on
localhost/127.0.0.1/::1 speak http, others https unless `insecure=True`.

Layers are compressed and uploaded UPLOAD_WORKERS at a time (zlib releases the GIL), in resumable chunks
(registry_client.py); each compressed blob is kept in the cache by its digest, so pushing again (another tag,
another registry, after an edit) never compresses a layer twice.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cognix.errors import ImageError
from cognix.image.cache import LayerCache, cache_dir
from cognix.image.compress import CODECS, Codec, Compression
from cognix.image.config import config_bytes, epoch, oci_manifest, sha256_digest
from cognix.image.layers import Blob, cached_blob, layer_infos, write_blob
from cognix.image.plan import ImagePlan, Layer
from cognix.image.registry_client import Client, Reference
from cognix.parallel import map_bounded
from cognix.progress import Progress, Silent

UPLOAD_WORKERS = 4

__all__ = ["PushResult", "Reference", "parse_reference", "push"]


@dataclass
class PushResult:
    reference: str
    manifest_digest: str
    uploaded: list[str] = field(default_factory=list)  # blob digests sent, in layer order (the config last)
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


def push(
    plan: ImagePlan,
    ref: str,
    *,
    insecure: bool = False,
    cache: LayerCache | None = None,
    progress: Progress | None = None,
    compression: Compression = Compression.GZIP,
) -> PushResult:
    """Push the image to `ref` (host[:port]/name[:tag]); blobs the registry has are skipped."""
    reference = parse_reference(ref)
    cache = cache or LayerCache()
    progress = progress or Silent()
    mtime = epoch(plan.created)
    infos = layer_infos(plan.layers, mtime, cache, progress)
    client = Client(reference, insecure)
    try:
        return _push(plan, client, ref, infos, mtime, cache, progress, CODECS[Compression(compression)])
    finally:
        client.http.close()


def blob_store(codec: Codec) -> Path:
    """Compressed layer blobs by digest (sha256 hex), next to the layer cache."""
    return cache_dir().parent / f"blobs-{codec.compression.value}"


def _push(plan, client: Client, ref: str, infos, mtime: int, cache: LayerCache, progress: Progress,
          codec: Codec) -> PushResult:
    result = PushResult(reference=ref, manifest_digest="")
    lock = threading.Lock()
    progress.start("pushing layers", len(plan.layers))

    def one(layer: Layer) -> tuple[Blob, bool]:
        blob, sent = _push_layer(client, layer, mtime, cache, codec)
        with lock:
            progress.advance()
        return blob, sent

    outcomes = map_bounded(one, plan.layers, workers=UPLOAD_WORKERS)
    progress.done()
    for blob, sent in outcomes:  # the same blob twice (two equal layers) is reported once
        if blob.digest not in result.uploaded + result.skipped:
            (result.uploaded if sent else result.skipped).append(blob.digest)
    config = config_bytes(plan, [i.diff_id for i in infos])
    config_digest = sha256_digest(config)
    if client.has_blob(config_digest):
        result.skipped.append(config_digest)
    else:
        client.upload(config_digest, config, len(config))
        result.uploaded.append(config_digest)
    manifest = oci_manifest(config, [(b.digest, b.size) for b, _ in outcomes], codec.media_type)
    result.manifest_digest = client.put_manifest(manifest)
    return result


def _push_layer(client: Client, layer: Layer, mtime: int, cache: LayerCache, codec: Codec) -> tuple[Blob, bool]:
    """The layer's blob, and whether it was sent (False: the registry had it)."""
    blob = cached_blob(layer, mtime, cache, codec)
    if blob is not None and client.has_blob(blob.digest):
        return blob, False
    path = _stored_blob(blob, codec) if blob is not None else None
    if path is None:
        blob, path = _compress(layer, mtime, cache, codec)
        if client.has_blob(blob.digest):
            return blob, False
    client.upload_file(blob.digest, path, blob.size)
    return blob, True


def _stored_blob(blob: Blob, codec: Codec) -> Path | None:
    path = blob_store(codec) / blob.digest.removeprefix("sha256:")
    try:
        return path if path.stat().st_size == blob.size else None
    except OSError:
        return None


def _compress(layer: Layer, mtime: int, cache: LayerCache, codec: Codec) -> tuple[Blob, Path]:
    """Compress the layer into the blob store (written aside, renamed to its digest once complete)."""
    store = blob_store(codec)
    try:
        store.mkdir(parents=True, exist_ok=True)
        fd, part = tempfile.mkstemp(dir=store, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as handle:
                _, blob = write_blob(layer, mtime, handle, cache, codec)  # type: ignore[arg-type]
            path = store / blob.digest.removeprefix("sha256:")
            os.replace(part, path)
        except BaseException:
            Path(part).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise ImageError(f"cannot write a compressed layer to {store}: {err}",
                         fix="free some disk space, or point COGNIX_CACHE_DIR at a disk with room") from err
    return blob, path
