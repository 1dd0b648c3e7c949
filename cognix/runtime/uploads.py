"""`--upload-url`: each output file is PUT to <upload-url><basename>, streamed from disk (a 100 MB output is never
read into memory); the output value is the Location the server answers (query removed), as Cog's uploader does."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Callable, Iterator

CHUNK = 1 << 20
UPLOAD_TIMEOUT_S = 25.0


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while True:
            block = fh.read(CHUNK)
            if not block:
                return
            yield block


def uploader(upload_url: str, pid: str) -> Callable[[Path], str]:
    import httpx

    base = upload_url if upload_url.endswith("/") else upload_url + "/"

    def upload(path: Path) -> str:
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        headers = {"Content-Type": mime, "X-Prediction-Id": pid, "Content-Length": str(path.stat().st_size)}
        try:
            resp = httpx.put(base + path.name, content=_chunks(path), headers=headers,
                             timeout=UPLOAD_TIMEOUT_S, follow_redirects=True)
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise RuntimeError(f"Failed to upload output: {exc}") from exc
        url = resp.headers.get("location") or str(resp.url)
        return url.split("?", 1)[0]

    return upload
