"""Store entries: immutable trees keyed by the hash of their inputs, each with a metadata file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from cognix.image.plan import Entry
from cognix.store.cache import cache_dir

# Bump when the way trees are produced changes, so old entries are not reused.
STORE_FORMAT = "1"


def entries_dir() -> Path:
    return cache_dir() / "entries"


def entry_key(*parts: str) -> str:
    digest = hashlib.sha256(STORE_FORMAT.encode())
    for part in parts:
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()


def tree_size(root: Path) -> int:
    """Bytes of regular files (symlinks and directories count zero)."""
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            st = os.lstat(os.path.join(dirpath, name))
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


def tree_listing_digest(root: Path) -> str:
    """sha256 over a sorted listing of (path, type, mode, content hash / link target) of a tree."""
    digest = hashlib.sha256()
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(dirs + files):
            full = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                line = f"l {rel} {os.readlink(full)}"
            elif stat.S_ISDIR(st.st_mode):
                line = f"d {rel} {st.st_mode & 0o7777:o}"
            else:
                h = hashlib.sha256()
                with open(full, "rb") as f:
                    while chunk := f.read(1 << 20):
                        h.update(chunk)
                line = f"f {rel} {st.st_mode & 0o111 and 1 or 0} {h.hexdigest()}"
            digest.update(line.encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()


def load_entry(key: str, name: str, references: list[str] | None = None) -> Entry | None:
    """The entry stored under key, or None. Only what its tree determines (size, digest) is read from the store:
    the name and the references are the caller's, because one tree (the runtime's, a wheel's) is needed by models
    whose plans differ, and a plan must not depend on which model happened to build the tree first."""
    meta = entries_dir() / key / "meta.json"
    try:
        data = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    return Entry(name=name, root=str(entries_dir() / key / "tree"), size=data["size"],
                 references=sorted(references or []), digest=data["digest"])


def make_entry(
    key: str,
    name: str,
    build: Callable[[Path], None],
    *,
    version: str = "",
    references: list[str] | None = None,
) -> Entry:
    """Return the entry for key, building its tree with build(tmp_tree) first when absent."""
    if hit := load_entry(key, name, references):
        return hit
    final = entries_dir() / key
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{key[:12]}-"))
    try:
        tree = work / "tree"
        tree.mkdir()
        build(tree)
        # name and version only as a note for a person reading the store; never read back
        meta = {"name": name, "version": version, "size": tree_size(tree), "key": key,
                "digest": tree_listing_digest(tree)}
        (work / "meta.json").write_text(json.dumps(meta, sort_keys=True, indent=2) + "\n")
        try:
            os.rename(work, final)
        except OSError:
            if not (final / "meta.json").exists():  # lost a race to an identical build: fine; else re-raise
                raise
    finally:
        if work.exists():
            remove_tree(work)
    entry = load_entry(key, name, references)
    assert entry is not None
    return entry


def remove_tree(path: Path) -> None:
    """rmtree that copes with read-only directories from unpacked packages."""

    def _onerror(func, p, _exc):
        os.chmod(os.path.dirname(p), 0o755)
        if os.path.isdir(p) and not os.path.islink(p):
            os.chmod(p, 0o755)
        func(p)

    shutil.rmtree(path, onerror=_onerror)
