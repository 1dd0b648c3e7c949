"""Tar archives for unpacker tests, member by member: (kind, name, data or link target), kind in file, dir, sym,
lnk (a hard link)."""

from __future__ import annotations

import io
import tarfile

Member = tuple[str, str, "bytes | str"]


def add_members(tar: tarfile.TarFile, members: list[Member]) -> None:
    for kind, name, data in members:
        info = tarfile.TarInfo(name)
        if kind == "dir":
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        elif kind in ("sym", "lnk"):
            info.type, info.linkname = (tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE), str(data)
            tar.addfile(info)
        else:
            payload = data.encode() if isinstance(data, str) else data
            info.size, info.mode = len(payload), 0o755
            tar.addfile(info, io.BytesIO(payload))


def tar_bytes(members: list[Member], mode: str = "w") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        add_members(tar, members)
    return buf.getvalue()
