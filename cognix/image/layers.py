"""Layer digests (cached) and compressed layer blobs for a plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from cognix.errors import ImageError
from cognix.image.cache import LayerCache, layer_key
from cognix.image.compress import CODECS, Codec, Compression
from cognix.image.plan import Layer
from cognix.image.tarball import HashingWriter, LayerInfo, write_layer
from cognix.progress import Progress, Silent


@dataclass(frozen=True)
class Blob:
    digest: str  # "sha256:<hex>" of the compressed bytes
    size: int


def layer_info(layer: Layer, mtime: int, cache: LayerCache | None = None) -> LayerInfo:
    """diff_id and size of the layer's tar: from the cache, else by hashing one tar pass."""
    cache = cache or LayerCache()
    key = layer_key(layer, mtime)
    hit = cache.get(key)
    if isinstance(hit.get("diff_id"), str) and isinstance(hit.get("size"), int):
        return LayerInfo(hit["diff_id"], hit["size"])
    info = write_layer(layer, None, mtime)
    cache.update(key, diff_id=info.diff_id, size=info.size)
    return info


def layer_infos(
    layers: list[Layer], mtime: int, cache: LayerCache | None = None, progress: Progress | None = None
) -> list[LayerInfo]:
    cache = cache or LayerCache()
    progress = progress or Silent()
    progress.start("hashing layers", len(layers))
    infos = []
    for layer in layers:
        infos.append(layer_info(layer, mtime, cache))
        progress.advance()
    progress.done()
    return infos


def cached_blob(layer: Layer, mtime: int, cache: LayerCache | None = None,
                codec: Codec = CODECS[Compression.GZIP]) -> Blob | None:
    """The compressed blob's digest, when this machine's compressor has made it before."""
    record = (cache or LayerCache()).get(layer_key(layer, mtime)).get(codec.compression.value, {})
    hit = record.get(codec.compressor) if isinstance(record, dict) else None
    if isinstance(hit, dict) and isinstance(hit.get("digest"), str):
        return Blob(hit["digest"], int(hit["size"]))
    return None


def write_blob(layer: Layer, mtime: int, out: BinaryIO, cache: LayerCache | None = None,
               codec: Codec = CODECS[Compression.GZIP]) -> tuple[LayerInfo, Blob]:
    """Stream the layer compressed into `out`; records both digests in the cache."""
    cache = cache or LayerCache()
    key = layer_key(layer, mtime)
    outer = HashingWriter(out)
    compressing = codec.writer(outer)  # type: ignore[arg-type]
    info = write_layer(layer, compressing, mtime)  # type: ignore[arg-type]
    compressing.close()
    blob = Blob(outer.digest, outer.size)
    known = cache.get(key).get("diff_id")
    if known and known != info.diff_id:
        raise ImageError(
            f"layer {info.diff_id} changed since its digest was cached ({known}): its trees in the store changed",
            fix="run `cognix build` again: it checks every stored tree and rebuilds one that changed",
        )
    cache.update(key, diff_id=info.diff_id, size=info.size,
                 **{codec.compression.value: {codec.compressor: {"digest": blob.digest, "size": blob.size}}})
    return info, blob
