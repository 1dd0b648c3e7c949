"""Unpacking .deb files: the `ar` container read by hand, data.tar.* extracted, no maintainer scripts run."""

from __future__ import annotations

import io
import lzma
import posixpath
import subprocess
import tarfile
from pathlib import Path

from cognix.errors import StoreError
from cognix.store.tarx import normalized, write_member


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
    return _member_tar(members, "data.tar", where)


def _member_tar(members: dict[str, bytes], prefix: str, where: str) -> tarfile.TarFile:
    for name, payload in members.items():
        if not name.startswith(prefix):
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
    raise StoreError(f"Debian package has no {prefix} member", where=where)


# What cognix reads of a package's control member: the postinst (its update-alternatives calls) and triggers.
CONTROL_FILES = ("postinst", "triggers")


def _write_control(members: dict[str, bytes], control: Path, where: str) -> None:
    """CONTROL_FILES of the control member into the directory control (created, possibly empty)."""
    control.mkdir(parents=True, exist_ok=True)
    if not any(name.startswith("control.tar") for name in members):
        return
    try:
        tar = _member_tar(members, "control.tar", where)
    except tarfile.ReadError:  # an empty control member: nothing to keep
        return
    with tar:
        for member in tar:
            name = normalized(member.name, where)
            if name in CONTROL_FILES and member.isfile():
                src = tar.extractfile(member)
                assert src is not None
                (control / name).write_bytes(src.read())


# Merged /usr, as every Debian install since bookworm and Debian's own container images: /bin, /sbin, /lib* are
# links into /usr (the system entry makes them). Newer suites' packages (forky) ship only /usr paths and rely on
# those links (their ELF interpreter is /lib64/ld-linux-x86-64.so.2); older ones still ship /bin and /lib.
MERGED_DIRS = ("bin", "sbin", "lib", "lib64")  # amd64 has no multilib dirs by default
DEB_FORMAT = "3"  # bump when unpacked trees change: part of the store key (2: merged /usr; 3: control files kept)


def merged_path(rel: str) -> str:
    """`bin/sh` -> `usr/bin/sh`; other paths unchanged."""
    top = rel.split("/", 1)[0]
    return f"usr/{rel}" if top in MERGED_DIRS else rel


def _merged_link(rel: str, new_rel: str, target: str) -> str:
    """A relative symlink target, still pointing at the same (merged) file from the link's new place."""
    if target.startswith("/") or rel == new_rel:
        return target
    absolute = posixpath.normpath(posixpath.join("/", posixpath.dirname(rel), target)).lstrip("/")
    return posixpath.relpath(merged_path(absolute), posixpath.dirname(new_rel) or ".")


def control_dir(tree: Path) -> Path:
    """Where a deb entry keeps its CONTROL_FILES: beside its tree in the store entry, never in the layer."""
    return tree.parent / "control"


def unpack_deb(deb: Path, tree: Path, *, control: Path | None = None) -> None:
    """Extract the data member of deb into tree (dirs, files, symlinks, hard links; modes kept, owners dropped),
    and with `control` the package's CONTROL_FILES into that directory (maintainer scripts are read, never run).

    Paths under /bin, /sbin and /lib* land under /usr (merged /usr)."""
    where = deb.name
    members = _ar_members(deb.read_bytes(), where)
    if control is not None:
        _write_control(members, control, where)
    with _data_tar(members, where) as tar:
        for member in tar:
            original = normalized(member.name, where)
            if not original:
                continue
            if original in MERGED_DIRS and not member.isdir():
                continue  # a package shipping the merged-/usr links itself (base-files): the system entry makes these
            rel = merged_path(original)
            write_member(tar, member, tree, rel, where,
                         symlink_to=_merged_link(original, rel, member.linkname) if member.issym() else None,
                         hardlink_rel=merged_path(normalized(member.linkname, where)) if member.islnk() else None)
