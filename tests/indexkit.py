"""A Python package index for tests, in the real formats: tiny valid wheels, PEP 503 pages, a PyTorch-style index.

Served from a directory with servicekit.static_files on 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

CP311 = "cp311-cp311-linux_x86_64"


def wheel_bytes(name: str, version: str, tag: str, requires: tuple[str, ...] = (), pad: int = 0) -> tuple[str, bytes]:
    """A valid wheel: METADATA (with Requires-Dist), WHEEL, RECORD; `pad` stored bytes make it weigh something."""
    stem = f"{name.replace('-', '_')}-{version}"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{name.replace('-', '_')}/__init__.py": b"",
        f"{stem}.dist-info/METADATA": meta.encode(),
        f"{stem}.dist-info/WHEEL":
            f"Wheel-Version: 1.0\nGenerator: cognix-tests\nRoot-Is-Purelib: false\nTag: {tag}\n".encode(),
    }
    if pad:
        files[f"{name.replace('-', '_')}/blob.bin"] = hashlib.shake_256(stem.encode()).digest(pad)
    buf = io.BytesIO()
    record = []
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for path, data in files.items():
            zf.writestr(zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0)), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{path},sha256={digest},{len(data)}")
        record.append(f"{stem}.dist-info/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{stem}.dist-info/RECORD", (1980, 1, 1, 0, 0, 0)), "\n".join(record) + "\n")
    return f"{stem}-{tag}.whl", buf.getvalue()


def write_page(page_dir: Path, links: list[tuple[str, str]]) -> None:
    """A PEP 503 project page: one anchor per (href, filename)."""
    page_dir.mkdir(parents=True, exist_ok=True)
    body = "\n".join(f'    <a href="{html.escape(href)}">{html.escape(name)}</a><br/>' for href, name in links)
    (page_dir / "index.html").write_text(f"<!DOCTYPE html>\n<html>\n  <body>\n{body}\n  </body>\n</html>\n")


@dataclass
class World:
    root: Path
    url: str = ""

    @property
    def simple(self) -> str:
        return f"{self.url}/simple"

    @property
    def torch_index(self) -> str:
        return f"{self.url}/whl"

    def package(self, name: str, version: str, tag: str = "py3-none-any", requires: tuple[str, ...] = (),
                pad: int = 0) -> None:
        """On the package index: files under /files, pages under /simple/<name>/ (relative hrefs)."""
        filename, data = wheel_bytes(name, version, tag, requires, pad)
        (self.root / "files").mkdir(parents=True, exist_ok=True)
        (self.root / "files" / filename).write_bytes(data)
        self._page(self.root / "simple" / name, self.root / "files", name, lambda f: f"../../files/{_quote(f)}")

    def torch_build(self, tag: str, name: str, version: str, wheel_tag: str = CP311,
                    requires: tuple[str, ...] = ()) -> None:
        """On the PyTorch-style index, laid out like the real one: /whl/<tag>/<file>, pages at /whl/<tag>/<name>/
        with absolute-path hrefs (the '+' of the local version written %2B)."""
        filename, data = wheel_bytes(name, f"{version}+{tag}", wheel_tag, requires)
        tag_dir = self.root / "whl" / tag
        tag_dir.mkdir(parents=True, exist_ok=True)
        (tag_dir / filename).write_bytes(data)
        self._page(tag_dir / name, tag_dir, name, lambda f: f"/whl/{tag}/{_quote(f)}")

    def _page(self, page_dir: Path, files_dir: Path, name: str, href) -> None:
        prefix = name.replace("-", "_") + "-"
        links = []
        for f in sorted(files_dir.glob(f"{prefix}*.whl")):
            digest = hashlib.sha256(f.read_bytes()).hexdigest()
            links.append((f"{href(f.name)}#sha256={digest}", f.name))
        write_page(page_dir, links)

    def wheel_size(self, filename: str) -> int:
        return (self.root / "files" / filename).stat().st_size


def _quote(filename: str) -> str:
    return filename.replace("+", "%2B")


