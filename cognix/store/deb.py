"""Unpacking .deb files: the `ar` container read by hand, data.tar.* extracted, no maintainer scripts run."""

from __future__ import annotations

import io
import lzma
import os
import posixpath
import subprocess
import tarfile
from pathlib import Path

from cognix.errors import StoreError


def _ar_members(data: bytes, where: str) -> dict[str, bytes]:
    if not data.startswith(b"!<arch>\n"):
        raise StoreError("not a Debian package (no ar header)", where=where)
    members: dict[str, bytes] = {}
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos : pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        start = pos + 60
        members[name] = data[start : start + size]
        pos = start + size + (size & 1)  # members are 2-byte aligned
    return members


def _data_tar(members: dict[str, bytes], where: str) -> tarfile.TarFile:
    for name, payload in members.items():
        if not name.startswith("data.tar"):
            continue
        if name.endswith(".zst"):
            try:
                payload = subprocess.run(["zstd", "-dc"], input=payload, capture_output=True, check=True).stdout
            except (OSError, subprocess.CalledProcessError) as err:
                raise StoreError(
                    f"cannot decompress {name}: {err}", where=where,
                    fix="install zstd (Debian package zstd); if it is installed, the .deb is corrupt",
                ) from None
        elif name.endswith(".xz"):
            payload = lzma.decompress(payload)
        return tarfile.open(fileobj=io.BytesIO(payload), mode="r:*")
    raise StoreError("Debian package has no data.tar member", where=where)


def _safe(name: str, where: str) -> str:
    norm = posixpath.normpath(name.lstrip("/"))
    if norm == ".":
        return ""
    if norm.startswith("..") or "/../" in f"/{norm}/":
        raise StoreError(f"unsafe path {name!r} in package", where=where)
    return norm


def unpack_deb(deb: Path, tree: Path) -> None:
    """Extract the data member of deb into tree (dirs, files, symlinks, hard links; modes kept, owners dropped)."""
    where = deb.name
    with _data_tar(_ar_members(deb.read_bytes(), where), where) as tar:
        for member in tar:
            rel = _safe(member.name, where)
            if not rel:
                continue
            target = tree / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if member.isdir():
                target.mkdir(exist_ok=True)
                os.chmod(target, (member.mode & 0o7777) | 0o700)
            elif member.issym():
                if target.is_symlink() or target.exists():
                    target.unlink()
                os.symlink(member.linkname, target)
            elif member.islnk():
                source = tree / _safe(member.linkname, where)
                if target.exists():
                    target.unlink()
                os.link(source, target)
            elif member.isfile():
                f = tar.extractfile(member)
                assert f is not None
                with open(target, "wb") as out:
                    out.write(f.read())
                os.chmod(target, (member.mode & 0o7777) | 0o600)
            # device nodes, fifos: never needed in an image layer; skipped
