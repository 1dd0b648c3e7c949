"""cognix.config."""
