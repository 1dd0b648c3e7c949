"""Writing one tar member into a store tree: the part every unpacker (.deb, interpreter archive) shares.

Each unpacker decides where a member goes and what its links point at (and refuses what escapes its tree); this
writes it there: directories and files with their modes (owner access added, owners dropped), symlinks, hard links.
Device nodes and fifos never belong in an image layer and are skipped.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path


def write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, *, symlink_to: str | None = None,
                 hardlink_from: Path | None = None) -> None:
    """symlink_to: the (checked) target of a symlink member; hardlink_from: the (checked) file a hard link names."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if member.isdir():
        target.mkdir(exist_ok=True)
        os.chmod(target, (member.mode & 0o7777) | 0o700)
    elif member.issym():
        if target.is_symlink() or target.exists():
            target.unlink()
        os.symlink(symlink_to if symlink_to is not None else member.linkname, target)
    elif member.islnk():
        assert hardlink_from is not None
        if target.is_symlink() or target.exists():
            target.unlink()
        os.link(hardlink_from, target)
    elif member.isfile():
        src = tar.extractfile(member)
        assert src is not None
        with open(target, "wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        os.chmod(target, (member.mode & 0o7777) | 0o600)
