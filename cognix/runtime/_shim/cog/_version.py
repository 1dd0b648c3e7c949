"""The Cog SDK version this shim is compatible with.

"0.23.1+cognix": models that compare `cog.__version__` against upstream releases see 0.23.1 (a PEP 440 local
segment sorts just above the public version), and the suffix tells a reader it is cognix's shim, not upstream's.
(cognix/runtime/routes.py reads the `__version__` line of this file.)
"""

__version__ = "0.23.1+cognix"
version = __version__
__version_tuple__ = version_tuple = (0, 23, 1, "cognix")
