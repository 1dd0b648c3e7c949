"""Cached layer digests: a layer is a pure function of its entries' trees, so its diff_id is computed once.

Key = sha256 over (tar format version, mtime, each entry's name and fingerprint). The fingerprint is
`Entry.digest` when the engine gives one (content-addressed, valid on any machine); otherwise a stat walk
of the tree (path, type, mode, size, mtime_ns, ctime_ns, inode, link target) plus its root path: cheap,
and local to this machine like the cache itself. One small JSON file per key under
$COGNIX_CACHE_DIR/layers (default ~/.cache/cognix/layers), written atomically.

Each record is sealed with a digest of its key and fields, checked on every read: a record edited by hand (a diff_id
that would end up in the image config, a blob digest `push` would skip uploading on the registry's word) is
discarded with a warning and computed again from the layer's verified trees, so the cache can cost time, never
correctness.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from cognix.fileio import tree_stat_fingerprint, write_atomic
from cognix.image.plan import Entry, Layer
from cognix.image.tarball import FORMAT_VERSION

RECORD_VERSION = 2  # in every key: records written before they were sealed are never read


def cache_dir() -> Path:
    base = os.environ.get("COGNIX_CACHE_DIR")
    if base:
        return Path(base) / "layers"
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "cognix" / "layers"


def _stat_fingerprint(entry: Entry) -> str:
    root = os.path.abspath(entry.root)
    text = root + "\0" + tree_stat_fingerprint(root)
    return "stat:" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def layer_key(layer: Layer, mtime: int) -> str:
    parts = [[e.name, e.digest or _stat_fingerprint(e), e.owner] for e in layer.entries]
    text = json.dumps({"v": FORMAT_VERSION, "record": RECORD_VERSION, "mtime": mtime, "entries": parts},
                      sort_keys=True)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _seal(key: str, fields: dict) -> str:
    text = json.dumps({"key": key, "fields": fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


class LayerCache:
    """key -> {"diff_id", "size", "gzip": {compressor: {"digest", "size"}}}; misses, unreadable and tampered records
    read as empty (a tampered one with a warning, and removed)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or cache_dir()

    def get(self, key: str) -> dict:
        path = self.directory / f"{key}.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        fields = data.get("fields") if isinstance(data, dict) else None
        if isinstance(fields, dict) and data.get("seal") == _seal(key, fields):
            return fields
        print(f"warning: the layer cache's record {path} was changed since cognix wrote it; "
              "computing the layer's digests again from its verified trees", file=sys.stderr)
        try:
            path.unlink()
        except OSError:
            pass
        return {}

    def update(self, key: str, **fields: object) -> None:
        data = self.get(key)
        for name, value in fields.items():
            if isinstance(value, dict) and isinstance(data.get(name), dict):
                data[name] = {**data[name], **value}
            else:
                data[name] = value
        record = {"fields": data, "seal": _seal(key, data)}
        try:
            write_atomic(self.directory / f"{key}.json", json.dumps(record, sort_keys=True).encode())
        except OSError:
            pass  # a cache that cannot be written only costs time
