"""`cog.files` (cog 0.8 to 0.16): turning an output file into a data URL or uploading it."""

from __future__ import annotations

import base64
import io
import mimetypes
import os
from typing import Any, Optional
from urllib.parse import urlparse


def ensure_trailing_slash(url: str) -> str:
    """`url` with a trailing slash added if it has none."""
    return url if url.endswith("/") else url + "/"


def guess_filename(obj: Any) -> str:
    """The base name of a file object's `name`, else 'file'."""
    return os.path.basename(str(getattr(obj, "name", "file") or "file"))


def upload_file(fh: io.IOBase, output_file_prefix: Optional[str] = None) -> str:
    """A data URL of the file's bytes; with `output_file_prefix`, the file PUT (multipart) to prefix + name."""
    if fh.seekable():
        fh.seek(0)
    if output_file_prefix is not None:
        import httpx

        url = output_file_prefix + guess_filename(fh)
        resp = httpx.put(url, files={"file": (guess_filename(fh), fh.read())}, timeout=5)
        resp.raise_for_status()
        return url
    data = fh.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    name = getattr(fh, "name", None)
    mime = (mimetypes.guess_type(str(name))[0] if name else None) or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def put_file_to_signed_endpoint(fh: io.IOBase, endpoint: str, client: Any, prediction_id: Optional[str]) -> str:
    """PUT the file to `endpoint` + its name; the URL it is at (the Location header, else the final URL), without
    its query. `client`: a requests.Session (as in cog) or an httpx.Client."""
    if fh.seekable():
        fh.seek(0)
    filename = guess_filename(fh)
    headers = {"Content-Type": mimetypes.guess_type(filename)[0] or "application/octet-stream"}
    if prediction_id is not None:
        headers["X-Prediction-ID"] = prediction_id
    url = ensure_trailing_slash(endpoint) + filename
    if type(client).__module__.split(".")[0] == "httpx":
        resp = client.put(url, content=fh.read(), headers=headers, timeout=15, follow_redirects=True)
    else:
        resp = client.put(url, fh, headers=headers, timeout=(10, 15))
    resp.raise_for_status()
    final_url = resp.headers.get("location") or str(resp.url)
    return str(urlparse(final_url)._replace(query="").geturl())


__all__ = ["ensure_trailing_slash", "guess_filename", "put_file_to_signed_endpoint", "upload_file"]
