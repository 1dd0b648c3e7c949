"""`cog.exceptions`: documented upstream but missing there; provided here so documented imports work."""

from cog._cancel import CancelationException

__all__ = ["CancelationException"]
