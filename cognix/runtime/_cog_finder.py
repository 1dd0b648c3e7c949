"""`import cog` anywhere in an image: the SDK shim, found only when no other `cog` is.

The image's site-packages holds `cognix-cog-shim.pth` (written by the store's runtime tree, copied from
cognix/runtime/), whose one line imports this module when any interpreter starts. That appends a finder to the END
of sys.meta_path: Python's own path finder (and any finder after this one, such as an editable install's) is asked
first, on the whole sys.path as it is at import time, so an upstream `cog` locked by the model, or one on
PYTHONPATH or in the model's directory, always wins; the shim answers only when nothing else has a `cog`.

Standard library modules already loaded at start-up only: this runs in every Python process of the image.
"""

import os
import sys
from importlib.machinery import PathFinder

SHIM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_shim")


class CogShimFinder:
    """A meta path finder for the top-level `cog` package only (its submodules come from the package's path)."""

    cognix_cog_shim = True
    shim_dir = SHIM_DIR

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):  # noqa: ANN001, ANN206 - the finder protocol
        if fullname != "cog":
            return None
        # finders appended after this one (editable installs, import hooks) come first too
        later = sys.meta_path[sys.meta_path.index(cls) + 1:] if cls in sys.meta_path else []
        for finder in later:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if callable(find) else None
            if spec is not None:
                return spec
        return PathFinder.find_spec(fullname, [cls.shim_dir])

    @classmethod
    def invalidate_caches(cls) -> None:
        return None


def installed():  # noqa: ANN201
    """The shim finder on sys.meta_path (from this or another copy of cognix), or None."""
    return next((f for f in sys.meta_path if getattr(f, "cognix_cog_shim", False)), None)


def install() -> None:
    """Append the finder to sys.meta_path, once per process."""
    if installed() is None:
        sys.meta_path.append(CogShimFinder)


install()
