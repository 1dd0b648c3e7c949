"""cognix.engines."""
