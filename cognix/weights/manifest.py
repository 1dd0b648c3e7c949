"""The runtime weights manifest `.cog/weights.json`, written by the engines into the image.

Format (version 1), read by cognix.runtime.weights_pull:
    {"version": 1,
     "files": [{"dest": "/src/weights/model.bin",       # absolute path in the container
                "sha256": "<hex>", "size": 123,
                "url": "gs://bucket/sha256/<hex>"}]}    # or an https URL
Files are sorted by dest; only runtime-mode weights appear. Serialise with manifest_bytes() for stable bytes.
"""

from __future__ import annotations

import posixpath

from cognix import jsontext
from cognix.errors import WeightsError
from cognix.lock.model import Lock

MANIFEST_PATH = ".cog/weights.json"  # relative to /src (the runtime's working directory)
MANIFEST_VERSION = 1


def manifest_for(lock: Lock) -> dict | None:
    """The manifest for the lock's runtime-mode weights, or None when it has none."""
    files = []
    missing = []
    for ws in lock.weights:
        if ws.mode != "runtime":
            continue
        for f in ws.files:
            url = f.location or (f.source if f.source.startswith("https://") else None)
            if url is None:
                missing.append(f.source)
                continue
            files.append({"dest": posixpath.join(ws.dest, f.path), "sha256": f.sha256, "size": f.size, "url": url})
    if missing:
        raise WeightsError(f"runtime-mode weights not pushed yet: {', '.join(sorted(missing)[:5])}"
                           + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""),
                           fix="run `cognix weights push` (it records their locations in lock.json)")
    if not files:
        return None
    return {"version": MANIFEST_VERSION, "files": sorted(files, key=lambda x: x["dest"])}


def manifest_bytes(manifest: dict) -> bytes:
    return jsontext.pretty(manifest).encode("utf-8")
