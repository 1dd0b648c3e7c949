"""cognix.cli."""
