"""Which models only the Nix engine can build.

A model directory with a `default.nix` customises its image in Nix (e.g. examples/ebsynth-cpu
builds ebsynth from source and adds it with `cognix.rootPackages`); the native engine builds from
Debian packages and wheels only, so it must refuse such a model instead of silently leaving the
Nix-built parts out.
"""

from __future__ import annotations

from pathlib import Path

NIX_ONLY_MARKER = "default.nix"


def nix_only_reason(model_dir: Path) -> str | None:
    """Why the native engine can't build `model_dir` (a sentence for a CognixError), or None."""
    marker = Path(model_dir) / NIX_ONLY_MARKER
    if not marker.is_file():
        return None
    return (
        f"{marker} customises the image in Nix (packages built from source, nixpkgs-only system packages); "
        "this model needs the Nix engine: `cognix init` then `nix build .#<name>` "
        "(in this repository: `nix build .#" + Path(model_dir).resolve().name + "`)"
    )
