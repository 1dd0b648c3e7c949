"""cognix: deterministic, layered OCI images for Cog models.

Kept import-free: this module ships inside every image next to cognix.runtime.
"""

__version__ = "0.1.0"
