"""cognix.lock."""
