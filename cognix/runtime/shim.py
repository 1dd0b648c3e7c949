"""Make `import cog` work inside images: our SDK shim, unless the model brings upstream cog itself.

In an image, `cognix-cog-shim.pth` in site-packages does this for every Python process (see _cog_finder.py);
install_shim() does the same for processes started some other way (tests, `cognix serve` on the host).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from cognix.runtime import _cog_finder

SHIM_DIR = Path(_cog_finder.SHIM_DIR)
#: the file the image's site-packages gets (its content: one `import` line that installs the finder)
PTH_FILE = Path(__file__).resolve().parent / "cognix-cog-shim.pth"


def install_shim() -> bool:
    """Install the shim finder (last on sys.meta_path); True if `import cog` gives the shim, False if another
    `cog` (upstream's, locked by the model) is importable and wins."""
    _cog_finder.install()
    module = sys.modules.get("cog")
    if module is not None:
        return _is_shim(getattr(module, "__file__", None))
    spec = importlib.util.find_spec("cog")
    return spec is not None and _is_shim(spec.origin)


def _is_shim(origin: str | None) -> bool:
    if not origin:
        return False
    shim_dir = getattr(_cog_finder.installed(), "shim_dir", str(SHIM_DIR))
    return str(Path(origin).resolve()).startswith(str(Path(shim_dir).resolve()) + "/")
