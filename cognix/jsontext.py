"""The one JSON writer for what cognix writes into images, labels and locks.

Both engines must write the same bytes for the same data: sorted keys, fixed separators and UTF-8 kept as UTF-8
(what Nix's builtins.toJSON and `jq -S` write), so a description "Temperature in °C" gives the same label, schema
file and image ID whichever engine built the image.
"""

from __future__ import annotations

import json


def compact(data: object) -> str:
    """One line, no spaces: labels, the image config, digests' inputs."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def pretty(data: object) -> str:
    """Two-space indent and a final newline (`jq -S --indent 2`): files a person may read (schema, manifests)."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
