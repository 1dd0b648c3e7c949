"""cognix.engines.nix."""
