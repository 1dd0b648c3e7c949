"""Cog's rule for the local file name of a URL input (standard library only: the `cog` shim imports it too)."""

from __future__ import annotations

import mimetypes
import os
import urllib.parse

FILENAME_MAX_LENGTH = 200
FILENAME_ILLEGAL_CHARS = ("\u0000", "/")


def derived_filename(url: str) -> str:
    """`file<ext>` for data URLs (ext from the MIME type), the decoded basename for http(s), at most 200 bytes."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "data":
        mime = parsed.path.split(",", 1)[0].split(";", 1)[0]
        extension = mimetypes.guess_extension(mime) if mime else None
        return "file" + extension if extension else "file"
    basename = urllib.parse.unquote(os.path.basename(parsed.path))
    if len(basename.encode("utf-8")) > FILENAME_MAX_LENGTH:
        root, ext = os.path.splitext(basename.encode("utf-8"))
        root = root[: FILENAME_MAX_LENGTH - len(ext) - 1]
        basename = root.decode("utf-8", "ignore") + "~" + ext.decode("utf-8")
    for char in FILENAME_ILLEGAL_CHARS:
        basename = basename.replace(char, "_")
    return basename or "file"
