"""`cog.mimetypes_ext` (cog 0.10 to 0.16): MIME types older Pythons lack (installed when `cog` is imported)."""

from __future__ import annotations

import sys
from typing import Any


class IMimeTypes:
    """What install_mime_extensions needs of its argument: the `mimetypes` module's add_type()."""

    def add_type(self, type: str, ext: str, strict: bool = True) -> None:  # noqa: A002 - mimetypes' name
        raise NotImplementedError


def install_mime_extensions(mimetypes: Any) -> None:
    """Register image/webp (.webp), which mimetypes knows only from Python 3.13 on."""
    if sys.version_info < (3, 13):
        mimetypes.add_type("image/webp", ".webp")


__all__ = ["IMimeTypes", "install_mime_extensions"]
