"""Cached layer digests: a layer is a pure function of its entries' trees, so its diff_id is computed once.

Key = sha256 over (tar format version, mtime, each entry's name and fingerprint). The fingerprint is
`Entry.digest` when the engine gives one (content-addressed, valid on any machine); otherwise a stat walk
of the tree (path, type, mode, size, mtime_ns, ctime_ns, inode, link target) plus its root path: cheap,
and local to this machine like the cache itself. One small JSON file per key under
$COGNIX_CACHE_DIR/layers (default ~/.cache/cognix/layers), written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from cognix.fileio import tree_stat_fingerprint, write_atomic
from cognix.image.plan import Entry, Layer
from cognix.image.tarball import FORMAT_VERSION


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
    text = json.dumps({"v": FORMAT_VERSION, "mtime": mtime, "entries": parts}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


class LayerCache:
    """key -> {"diff_id", "size", "gzip": {compressor: {"digest", "size"}}}; misses and bad files read as empty."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or cache_dir()

    def get(self, key: str) -> dict:
        try:
            data = json.loads((self.directory / f"{key}.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def update(self, key: str, **fields: object) -> None:
        data = self.get(key)
        for name, value in fields.items():
            if isinstance(value, dict) and isinstance(data.get(name), dict):
                data[name] = {**data[name], **value}
            else:
                data[name] = value
        try:
            write_atomic(self.directory / f"{key}.json", json.dumps(data, sort_keys=True).encode())
        except OSError:
            pass  # a cache that cannot be written only costs time
