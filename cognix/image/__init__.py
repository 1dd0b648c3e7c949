"""cognix.image."""
