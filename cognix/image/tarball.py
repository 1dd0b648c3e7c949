"""Layer tarballs: one deterministic tar per plan Layer, streamed, with its diff_id computed on the way.

The only place in cognix that writes tar entries. Rules (the same as nixpkgs' streamLayeredImage):
entries sorted by path components (parents first, each directory once, implied parents added), mtime =
the plan's `created`, owner 0:0 named root:root (or the entry's owner, numeric only), modes normalised (directories 0755, files 0755 when any
exec bit is set else 0644, setuid/setgid dropped; a sticky world-writable directory such as /tmp keeps 1777
so a non-root user can write there), symlinks kept, hard links stored as regular
files, no device files/fifos/sockets, no xattrs or pax headers; GNU format (long names use GNU longname
records, which are deterministic). Headers come from the stdlib `tarfile` GNU encoder; a golden-digest
test pins the bytes.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
import tarfile
from dataclasses import dataclass, replace
from typing import BinaryIO, Iterable

from cognix.errors import ImageError
from cognix.image.plan import Layer

TAR_FORMAT = tarfile.GNU_FORMAT
OWNER_NAME = "root"
BLOCK = 512
CHUNK = 1 << 20
# Bumped whenever the bytes this module writes for the same trees change (invalidates digest caches).
FORMAT_VERSION = 2


@dataclass(frozen=True)
class Node:
    """One tar entry to write: a directory, a regular file (read from `source`) or a symlink."""

    kind: str  # "dir" | "file" | "symlink"
    mode: int
    size: int = 0
    source: str = ""  # absolute path on disk (files)
    target: str = ""  # symlink target
    owner: int = 0  # uid and gid


@dataclass(frozen=True)
class LayerInfo:
    diff_id: str  # "sha256:<hex>" of the uncompressed tar
    size: int  # bytes of the uncompressed tar


DIR = Node("dir", 0o755)
SHARED_DIR = Node("dir", 0o1777)  # /tmp, /var/tmp: sticky and world-writable


def _node(path: str, st: os.stat_result) -> Node | None:
    if stat.S_ISDIR(st.st_mode):
        sticky_shared = st.st_mode & stat.S_ISVTX and st.st_mode & 0o002
        return SHARED_DIR if sticky_shared else DIR
    if stat.S_ISLNK(st.st_mode):
        return Node("symlink", 0o777, target=os.readlink(path))
    if stat.S_ISREG(st.st_mode):
        mode = 0o755 if st.st_mode & 0o111 else 0o644
        return Node("file", mode, size=st.st_size, source=path)
    return None  # device files, fifos, sockets never go into an image


def _put(nodes: dict[str, Node], path: str, node: Node) -> None:
    old = nodes.get(path)
    if old is not None and old.kind == "dir" and node.kind != "dir":
        # A later entry replaces a directory with a file/symlink: what lived under it goes too.
        prefix = path + "/"
        for key in [k for k in nodes if k.startswith(prefix)]:
            del nodes[key]
    nodes[path] = node


def collect(layer: Layer) -> list[tuple[str, Node]]:
    """The layer's entries merged (later entries win), with implied parents, in tar order."""
    nodes: dict[str, Node] = {}
    for entry in layer.entries:
        root = entry.root
        if not os.path.isdir(root):
            raise ImageError(
                f"store entry {entry.name!r} has no tree at {root}",
                fix="rebuild so the store re-creates it (or clear the cognix cache)",
            )

        def fail(err: OSError) -> None:
            raise ImageError(f"cannot read store entry {entry.name!r}: {err}")

        for dirpath, dirnames, filenames in os.walk(root, onerror=fail):
            rel = os.path.relpath(dirpath, root)
            for name in dirnames + filenames:  # os.walk lists symlinks to dirs in dirnames, unfollowed
                full = os.path.join(dirpath, name)
                path = name if rel == "." else f"{rel}/{name}"
                try:
                    node = _node(full, os.lstat(full))
                except OSError as err:
                    fail(err)
                if node is not None:
                    _put(nodes, path.replace(os.sep, "/"), replace(node, owner=entry.owner) if entry.owner else node)
    for path in list(nodes):
        parent = posixpath.dirname(path)
        while parent:
            existing = nodes.get(parent)
            if existing is not None and existing.kind == "dir":
                break  # a directory's ancestors are present already (walked top-down, or implied before)
            nodes[parent] = DIR  # implied parent
            parent = posixpath.dirname(parent)
    return sorted(nodes.items(), key=lambda item: item[0].split("/"))


def header(path: str, node: Node, mtime: int) -> bytes:
    """The tar header block(s) for one entry, fixed metadata."""
    info = tarfile.TarInfo(path)
    info.mtime = mtime
    info.uid = info.gid = node.owner
    info.uname = info.gname = OWNER_NAME if node.owner == 0 else ""
    info.mode = node.mode
    if node.kind == "dir":
        info.type = tarfile.DIRTYPE
    elif node.kind == "symlink":
        info.type = tarfile.SYMTYPE
        info.linkname = node.target
    else:
        info.type = tarfile.REGTYPE
        info.size = node.size
    return info.tobuf(TAR_FORMAT, "utf-8", "surrogateescape")


def padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


END = b"\0" * (2 * BLOCK)


class HashingWriter:
    """Counts and sha256-hashes what passes through; forwards to `out` unless it is None."""

    def __init__(self, out: BinaryIO | None) -> None:
        self.out = out
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        if self.out is not None:
            self.out.write(data)
        return len(data)

    @property
    def digest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


def file_chunks(node: Node) -> Iterable[bytes]:
    """A file's bytes in chunks; an error when it changed size since it was listed."""
    remaining = node.size
    try:
        with open(node.source, "rb") as handle:
            while remaining:
                chunk = handle.read(min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
    except OSError as err:
        raise ImageError(f"cannot read {node.source}: {err}") from err
    if remaining:
        raise ImageError(
            f"{node.source} changed while it was being written into a layer",
            fix="store entries must not change; rebuild",
        )


def write_layer(layer: Layer, out: BinaryIO | None, mtime: int) -> LayerInfo:
    """Stream the layer's tar into `out` (None: only hash it); returns its diff_id and size."""
    sink = HashingWriter(out)
    for path, node in collect(layer):
        sink.write(header(path, node, mtime))
        if node.kind == "file":
            for chunk in file_chunks(node):
                sink.write(chunk)
            sink.write(padding(node.size))
    sink.write(END)
    return LayerInfo(sink.digest, sink.size)
