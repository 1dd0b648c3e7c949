"""cognix.engines.native."""
