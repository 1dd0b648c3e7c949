"""`cog.ext` (cog 0.16): the namespace for SDK extensions; empty, as it was."""
