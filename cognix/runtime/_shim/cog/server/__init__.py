"""`cog.server`: Cog's server package name; `python -m cog.server.http` runs the cognix runtime."""
