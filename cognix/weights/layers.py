"""Build-mode weights as image layer trees: a large file alone, an entry's small files together."""

from __future__ import annotations

import errno
import os
import posixpath
import shutil
from pathlib import Path

from cognix.image.plan import Entry
from cognix.lock.model import Lock, WeightFile
from cognix.progress import Progress
from cognix.store.cache import add_file
from cognix.store.entries import entry_key, make_entry
from cognix.weights.hashing import HashCache
from cognix.weights.sources import materialise

LARGE_FILE = 64 << 20  # a file this big gets a layer of its own, so changing it rebuilds only that layer
TREE_FORMAT = "weights-1"


def layer_groups(lock: Lock) -> list[tuple[str, list[tuple[str, WeightFile]]]]:
    """(layer name, [(image path, file)]) for build-mode weights, in lock order; image paths are absolute."""
    groups = []
    for ws in lock.weights:
        if ws.mode != "build":
            continue
        small = []
        for f in sorted(ws.files, key=lambda f: f.path):
            image_path = posixpath.join(ws.dest, f.path)
            if f.size >= LARGE_FILE:
                groups.append((f"weights{image_path}", [(image_path, f)]))
            else:
                small.append((image_path, f))
        if small:
            groups.append((f"weights{ws.dest}", small))
    return groups


def weight_trees(lock: Lock, model_dir: Path, *, progress: Progress | None = None) -> list[Entry]:
    """One store entry per weights layer, its tree holding the files at their dest (e.g. src/weights/x.bin).

    Entries are keyed by (image path, sha256) of their files, so a changed file changes only its own layer.
    """
    hashes = HashCache()
    out = []
    for name, members in layer_groups(lock):
        key = entry_key(TREE_FORMAT, *(f"{p} {f.sha256} {f.size}" for p, f in members))

        def build(tree: Path, members: list[tuple[str, WeightFile]] = members) -> None:
            for image_path, f in members:
                source = materialise(f, Path(model_dir), hashes=hashes, progress=progress)
                if "://" not in f.source:  # copy model-dir files into the store so later edits can't reach the tree
                    source = add_file(source, f.sha256, f.size, f.path)
                target = tree / image_path.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(source, target)

        entry = make_entry(key, name, build, version=TREE_FORMAT)
        out.append(entry)
    hashes.save()
    return out


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError as err:
        if err.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copyfile(source, target)
        os.chmod(target, 0o644)


def source_exclusions(lock: Lock) -> list[str]:
    """Model-dir files (posix, relative) that weights entries read, to keep out of the /src layer.

    Build-mode files arrive through their own layers and runtime-mode ones are pulled at start, so copying
    them with the source tree would duplicate (or ship) them.
    """
    return sorted({f.source for ws in lock.weights for f in ws.files if "://" not in f.source})
