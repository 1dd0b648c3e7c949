"""cognix.engines.nix: the Nix engine lives in flake.nix and nix/ (see README.md, section "Nix"); this module
holds what the Python side needs to know about it."""

from cognix.engines.nix.marker import NIX_ONLY_MARKER, nix_only_reason

__all__ = ["NIX_ONLY_MARKER", "nix_only_reason"]
