"""cognix.nixgen."""
