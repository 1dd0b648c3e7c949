"""Writing archive members into a store tree: the part every unpacker (.deb, interpreter archive, sdist) shares.

Each unpacker decides where a member goes and what its links point at; this writes it there, and refuses what would
land outside the tree: a member name with `..`, a path that passes through a symlink already in the tree (writing
through it would follow it wherever it points, the host included), a hard link to anything but a regular file of the
tree. Directories and files keep their modes (owner access added, owners dropped); device nodes and fifos never
belong in an image layer and are skipped. Files are opened with O_NOFOLLOW.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from pathlib import Path

from cognix.errors import StoreError


def normalized(name: str, where: str) -> str:
    """An archive member name as a path relative to its tree ("" for the tree itself); StoreError for `..`."""
    norm = posixpath.normpath(name.lstrip("/"))
    if norm == ".":
        return ""
    if norm == ".." or norm.startswith("../"):
        raise StoreError(f"unsafe path {name!r} in the archive", where=where)
    return norm


def inside(tree: Path, rel: str, where: str) -> Path:
    """tree/rel, after checking that no existing directory on the way is a symlink."""
    current = tree
    for part in rel.split("/")[:-1]:
        current = current / part
        if current.is_symlink():
            raise StoreError(f"{rel!r} passes through the link {current.relative_to(tree).as_posix()!r} in the archive",
                             where=where, fix="the archive is malformed or malicious; it was not unpacked further")
    return tree / rel


def write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, tree: Path, rel: str, where: str, *,
                 symlink_to: str | None = None, hardlink_rel: str | None = None) -> None:
    """Write one member at tree/rel. symlink_to: a symlink's (checked) target; hardlink_rel: the tree-relative path
    a hard link names."""
    target = inside(tree, rel, where)
    target.parent.mkdir(parents=True, exist_ok=True)
    existing = os.lstat(target) if os.path.lexists(target) else None
    if member.isdir():
        if existing is not None and not stat.S_ISDIR(existing.st_mode):
            raise StoreError(f"{rel!r} is a directory in the archive and something else before it", where=where)
        target.mkdir(exist_ok=True)
        os.chmod(target, (member.mode & 0o7777) | 0o700)
        return
    if not (member.issym() or member.islnk() or member.isfile()):
        return
    if existing is not None:
        if stat.S_ISDIR(existing.st_mode):
            raise StoreError(f"{rel!r} would replace a directory of the archive", where=where)
        target.unlink()
    if member.issym():
        os.symlink(symlink_to if symlink_to is not None else member.linkname, target)
    elif member.islnk():
        source = inside(tree, normalized(hardlink_rel or member.linkname, where), where)
        if not os.path.lexists(source) or not stat.S_ISREG(os.lstat(source).st_mode):
            raise StoreError(f"hard link {rel!r} names {hardlink_rel or member.linkname!r}, not a file of the archive",
                             where=where)
        os.link(source, target, follow_symlinks=False)
    else:
        src = tar.extractfile(member)
        assert src is not None
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        os.chmod(target, (member.mode & 0o7777) | 0o600)
