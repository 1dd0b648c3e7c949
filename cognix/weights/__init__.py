"""cognix.weights."""
