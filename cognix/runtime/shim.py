"""Make `import cog` work inside images: our SDK shim, unless the model brings upstream cog itself."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SHIM_DIR = Path(__file__).resolve().parent / "_shim"


def install_shim() -> bool:
    """Append the shim directory to the END of sys.path if `cog` is not importable otherwise; True if added."""
    if str(SHIM_DIR) in sys.path:
        return True
    if "cog" in sys.modules or importlib.util.find_spec("cog") is not None:
        return False
    sys.path.append(str(SHIM_DIR))
    importlib.invalidate_caches()
    return True
