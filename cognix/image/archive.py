"""Image bytes from a plan: a docker-archive stream (uncompressed layers) and an OCI image layout (gzip)."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cognix.errors import ImageError
from cognix.image.cache import LayerCache
from cognix.image.config import (
    OCI_INDEX,
    OCI_MANIFEST,
    canonical_json,
    config_bytes,
    epoch,
    image_id,
    oci_manifest,
    sha256_digest,
)
from cognix.image.layers import Blob, layer_infos, write_blob
from cognix.image.plan import ImagePlan, Layer
from cognix.image.tarball import DIR, END, LayerInfo, Node, header, padding, write_layer
from cognix.progress import Progress, Silent


def split_repo_tag(repo_tag: str) -> tuple[str, str]:
    """("name", "tag") of "name:tag" (tag "latest" when absent; a registry port is not a tag)."""
    name, sep, tag = repo_tag.rpartition(":")
    if not sep or "/" in tag:
        return repo_tag, "latest"
    return name, tag


class _Progressing:
    def __init__(self, out: BinaryIO, progress: Progress) -> None:
        self.out, self.progress = out, progress

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.progress.advance(len(data))
        return len(data)


def stream_docker_archive(
    plan: ImagePlan,
    out: BinaryIO,
    *,
    cache: LayerCache | None = None,
    progress: Progress | None = None,
    omit_leading: int = 0,
    infos: list[LayerInfo] | None = None,
) -> str:
    """Write the image as a docker-archive (Docker Image Spec v1.2) tar to `out`; returns the image ID.

    `omit_leading`: the first that many layers' files are left out (the manifest still names them), for an engine
    that holds their chain already: `docker load` takes such an archive and uses the layers it has. `infos`: the
    layers' digests when the caller has them already (else computed, from the cache when it can)."""
    cache = cache or LayerCache()
    progress = progress or Silent()
    mtime = epoch(plan.created)
    infos = infos if infos is not None else layer_infos(plan.layers, mtime, cache, progress)
    config = config_bytes(plan, [i.diff_id for i in infos])
    config_name = image_id(config).removeprefix("sha256:") + ".json"
    layer_names = [i.diff_id.removeprefix("sha256:") + "/layer.tar" for i in infos]
    manifest = canonical_json([{"Config": config_name, "RepoTags": [plan.repo_tag], "Layers": layer_names}])

    sent = sum(info.size for info in dict(zip(layer_names[omit_leading:], infos[omit_leading:])).values())
    progress.start("writing image", sent + len(config) + len(manifest))
    sink = _Progressing(out, progress)
    written: set[str] = set()
    # a layer left out at the front but repeated later is written there: its later chain is new to the engine
    for layer, info, name in list(zip(plan.layers, infos, layer_names))[omit_leading:]:
        if name in written:
            continue
        written.add(name)
        sink.write(header(name.removesuffix("/layer.tar"), DIR, mtime))
        sink.write(header(name, Node("file", 0o644, size=info.size), mtime))
        got = write_layer(layer, sink, mtime)  # type: ignore[arg-type]
        if got != info:
            raise ImageError(
                f"layer {info.diff_id} came out as {got.diff_id} ({got.size} bytes): its trees in the store "
                "changed after the build",
                fix="run `cognix build` again: it checks every stored tree and rebuilds one that changed",
            )
        sink.write(padding(info.size))
    for name, data in ((config_name, config), ("manifest.json", manifest)):
        sink.write(header(name, Node("file", 0o644, size=len(data)), mtime))
        sink.write(data + padding(len(data)))
    sink.write(END)
    out.flush()
    progress.done()
    return image_id(config)


def image_id_of(plan: ImagePlan, *, cache: LayerCache | None = None) -> str:
    """The image ID (config digest) the plan's image will have, from cached layer digests when possible."""
    infos = layer_infos(plan.layers, epoch(plan.created), cache)
    return image_id(config_bytes(plan, [i.diff_id for i in infos]))


@dataclass(frozen=True)
class OciResult:
    manifest_digest: str
    image_id: str


def _write_bytes(blobs: Path, data: bytes) -> str:
    digest = sha256_digest(data)
    (blobs / digest.removeprefix("sha256:")).write_bytes(data)
    return digest


def write_oci_layout(
    plan: ImagePlan, directory: Path, *, cache: LayerCache | None = None, progress: Progress | None = None
) -> OciResult:
    """Write an OCI image layout (gzip layers) to `directory` atomically: built aside, then renamed into place."""
    cache = cache or LayerCache()
    progress = progress or Silent()
    directory = Path(directory).absolute()
    if directory.exists() and not (directory / "oci-layout").exists() and any(directory.iterdir()):
        raise ImageError(
            f"{directory} exists and is not an OCI layout", fix="choose a new or empty directory, or an old layout"
        )
    mtime = epoch(plan.created)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.tmp-"))
    try:
        blobs = tmp / "blobs" / "sha256"
        blobs.mkdir(parents=True)
        progress.start("compressing layers", len(plan.layers))
        lock = threading.Lock()

        def compress(layer: Layer) -> tuple[LayerInfo, Blob]:
            fd, part = tempfile.mkstemp(dir=blobs, prefix=".partial-")
            with os.fdopen(fd, "wb") as handle:
                info, blob = write_blob(layer, mtime, handle, cache)  # type: ignore[arg-type]
            os.replace(part, blobs / blob.digest.removeprefix("sha256:"))
            with lock:
                progress.advance()
            return info, blob

        # zlib releases the GIL, so layers compress in parallel; each layer's bytes stay the same.
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            done = list(pool.map(compress, plan.layers))
        progress.done()
        diff_ids = [info.diff_id for info, _ in done]
        descriptors = [(blob.digest, blob.size) for _, blob in done]
        config = config_bytes(plan, diff_ids)
        _write_bytes(blobs, config)
        manifest = oci_manifest(config, descriptors)
        manifest_digest = _write_bytes(blobs, manifest)
        _, tag = split_repo_tag(plan.repo_tag)
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": manifest_digest,
                    "size": len(manifest),
                    "annotations": {
                        "org.opencontainers.image.ref.name": tag,
                        "io.containerd.image.name": plan.repo_tag,
                    },
                }
            ],
        }
        (tmp / "index.json").write_bytes(canonical_json(index))
        (tmp / "oci-layout").write_bytes(canonical_json({"imageLayoutVersion": "1.0.0"}))
        _swap_into_place(tmp, directory)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ImageError(f"cannot write the OCI layout {directory}: {err}") from err
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return OciResult(manifest_digest, image_id(config))


def _swap_into_place(new: Path, directory: Path) -> None:
    if not directory.exists():
        os.rename(new, directory)
        return
    old = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.old-"))
    os.rename(directory, old / "layout")
    os.rename(new, directory)
    shutil.rmtree(old, ignore_errors=True)
