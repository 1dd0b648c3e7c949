"""cognix.store."""
