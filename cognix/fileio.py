"""Files: written so that readers see the old bytes or the new ones, never half of them; trees: whether they changed."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write `data` to a temp file beside `path`, then rename it over `path`; on failure no temp file is left."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def tree_stat_fingerprint(root: Path | str, *, ctime: bool = True) -> str:
    """sha256 over every path below root with its type, mode, size, mtime, inode, link target and (unless
    ctime=False) ctime: a cheap sign (one lstat per path) that nothing in the tree changed since it was taken. Not
    portable: a copy of the tree fingerprints differently, so a mismatch means "look closer", never "tampered".
    ctime=False for trees whose files are hard-linked elsewhere (a new link changes a file's ctime, not its bytes)."""
    sha = hashlib.sha256()
    root = os.fspath(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
                target = os.readlink(full) if stat.S_ISLNK(st.st_mode) else ""
            except OSError:
                continue  # whoever reads the tree next reports unreadable paths properly
            row = (os.path.relpath(full, root), st.st_mode, st.st_size, st.st_mtime_ns,
                   st.st_ctime_ns if ctime else 0, st.st_ino, target)
            sha.update(repr(row).encode("utf-8", "surrogateescape"))
    return sha.hexdigest()
