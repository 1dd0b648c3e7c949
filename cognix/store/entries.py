"""Store entries: immutable trees keyed by the hash of their inputs, each with a metadata file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from cognix.fileio import tree_stat_fingerprint, write_atomic
from cognix.image.plan import Entry
from cognix.store.cache import cache_dir

# Bump when the way trees are produced changes, so old entries are not reused.
STORE_FORMAT = "1"
SEAL = "seal"  # beside meta.json: the tree's stat fingerprint when it was last known to match its digest
VERIFY_ENV = "COGNIX_VERIFY_STORE"  # "full": re-hash every tree before use instead of trusting an unchanged seal


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


def _full_check() -> bool:
    return os.environ.get(VERIFY_ENV, "") == "full"


def _seal(entry_dir: Path) -> None:
    """Record the tree's stat fingerprint: proof, until a path below it changes, that it still has its digest."""
    write_atomic(entry_dir / SEAL, tree_stat_fingerprint(entry_dir / "tree", ctime=False).encode())


def _intact(entry: Entry) -> bool:
    """Whether the tree still holds the bytes its digest was taken of: the seal when nothing changed, else (or with
    COGNIX_VERIFY_STORE=full) the digest itself, re-sealing a tree that only moved (a restored or copied cache)."""
    entry_dir = Path(entry.root).parent
    if not _full_check():
        try:
            if (entry_dir / SEAL).read_bytes() == tree_stat_fingerprint(entry.root, ctime=False).encode():
                return True
        except OSError:
            pass
    if tree_listing_digest(Path(entry.root)) != entry.digest:
        return False
    _seal(entry_dir)
    return True


def _discard(entry_dir: Path) -> None:
    """Move a damaged entry out of the way (atomically: a concurrent build never sees half of it), then delete it."""
    trash = Path(tempfile.mkdtemp(dir=entry_dir.parent, prefix=f".{entry_dir.name[:12]}-damaged-"))
    try:
        os.rename(entry_dir, trash / "entry")
    except FileNotFoundError:
        pass  # another build discarded it first
    remove_tree(trash)


def make_entry(
    key: str,
    name: str,
    build: Callable[[Path], None],
    *,
    version: str = "",
    references: list[str] | None = None,
) -> Entry:
    """Return the entry for key, building its tree with build(tmp_tree) first when absent. A stored tree is checked
    before it is used; one that no longer matches its digest is discarded, with a warning, and built again from its
    (verified) inputs, so nothing that does not come from them reaches an image."""
    if hit := load_entry(key, name, references):
        if _intact(hit):
            return hit
        print(f"warning: the store's tree for {name} ({entries_dir() / key}) was changed since it was made; "
              "building it again from its verified inputs", file=sys.stderr)
        _discard(entries_dir() / key)
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
        _seal(work)  # renaming work leaves the paths below tree/ (their inodes, times) as they are
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
