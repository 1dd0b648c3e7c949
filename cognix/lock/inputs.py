"""The lock's input hash: what, when changed, makes a lock stale (cog.yaml's build, requirements, weights specs)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from cognix import jsontext
from cognix.lock.model import LOCK_FORMAT_VERSION, LockOptions


def input_data(config: Any, model_dir: Path, options: LockOptions | None = None) -> dict[str, Any]:
    """The data the input hash covers; predict.py and other source files are deliberately not part of it."""
    from cognix.config import requirements_of

    reqs = requirements_of(Path(model_dir), config)
    data: dict[str, Any] = {
        "build": config.cog_json().get("build", {}),
        "requirements": {
            "lines": list(reqs.lines),
            "index_url": reqs.index_url,
            "extra_index_urls": list(reqs.extra_index_urls),
            "find_links": list(reqs.find_links),
            "options": list(reqs.options),
        },
        "weights": [spec.model_dump(mode="json") for spec in config.weights],
        "format": LOCK_FORMAT_VERSION,
    }
    chosen = (options or LockOptions()).model_dump(mode="json", exclude_defaults=True)
    if chosen:  # only options set away from their defaults: locks made before options existed stay fresh
        data["options"] = chosen
    return data


def canonical_json(data: Any) -> str:
    """Nix-compatible canonical JSON (sorted keys, no whitespace), as dream2nix hashes invalidationData."""
    return jsontext.compact(data)


def input_hash(config: Any, model_dir: Path, options: LockOptions | None = None) -> str:
    """sha256 hex of the canonical JSON of `input_data`."""
    return hashlib.sha256(canonical_json(input_data(config, model_dir, options)).encode("utf-8")).hexdigest()
