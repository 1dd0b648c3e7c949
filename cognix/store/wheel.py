"""Installing a wheel into its own tree with the `installer` library, as Debian's interpreter will see it."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile

from cognix.errors import StoreError
from cognix.lock.model import PythonLayout


def install_wheel(wheel: Path, layout: PythonLayout, tree: Path, filename: str | None = None) -> None:
    """Install wheel under tree with the image's paths; no bytecode, console scripts for the image's python."""
    scheme = {
        "purelib": layout.site_packages,
        "platlib": layout.site_packages,
        "headers": layout.include,
        "scripts": layout.scripts,
        "data": layout.prefix,
    }
    destination = SchemeDictionaryDestination(
        scheme,
        interpreter=layout.executable,
        script_kind="posix",
        bytecode_optimization_levels=(),
        destdir=str(tree),
    )
    try:
        with zipfile.ZipFile(wheel) as archive:
            archive.filename = filename or wheel.name  # the cache names files by sha256; installer parses this name
            with warnings.catch_warnings():
                # installer skips stray __pycache__ files some wheels ship (numpy's): what we want, said quietly
                warnings.filterwarnings("ignore", message="Skip installing .*__pycache__", category=RuntimeWarning)
                install(WheelFile(archive), destination, additional_metadata={"INSTALLER": b"cognix\n"})
    except Exception as err:  # noqa: BLE001 — installer raises plain exceptions for broken wheels
        raise StoreError(f"installing {filename or wheel.name} failed: {err}", where=str(wheel)) from None
