"""cognix.runtime: Cog's HTTP prediction API, shipped inside every image (no build-side imports)."""
