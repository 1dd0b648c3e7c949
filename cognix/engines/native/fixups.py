"""The "system/postinst" entry: what Debian's maintainer scripts and triggers would have left that programs need.

.debs are unpacked without running their scripts (cognix.store.deb); the system entry writes passwd, the CA bundle
and the merged-/usr links. This entry adds, over the image's debs, interpreter and system entry:

- the alternatives links of every `update-alternatives --install` in the packages' postinst scripts
  (LINK -> /etc/alternatives/NAME -> PATH, as dpkg's automatic mode leaves them; cognix.store.alternatives), e.g.
  /usr/lib/x86_64-linux-gnu/libblas.so.3 for ffmpeg's libblas3, /usr/bin/convert for imagemagick;
- /etc/ld.so.cache, written by the image's own ldconfig (Debian's libc-bin; a build-only deb of the lock when the
  image has none) run inside the assembled tree, so it never depends on the host's glibc;
- fontconfig's caches (fc-cache, when the image has fontconfig), gdk-pixbuf's loaders.cache
  (gdk-pixbuf-query-loaders) and GSettings' gschemas.compiled (glib-compile-schemas), when those tools are there.

The tools run under bubblewrap with the assembled tree read-only (its files are hard links into the store), each
writing into a directory of its own. Reproducible: fontconfig's caches record each font directory's mtime, taken
as min(mtime, SOURCE_DATE_EPOCH) when that is set, which is also every directory's mtime in the image, so they stay
valid there; the other outputs hold no times, and the tools get sorted inputs (loaders by path, as Debian's
trigger passes them). The entry is one layer; its key covers every entry below it and each postinst.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from cognix.engines.native.libcheck import fs_node, resolve
from cognix.engines.native.sandbox import assemble, run_in_tree
from cognix.errors import StoreError
from cognix.image.plan import Entry
from cognix.store.alternatives import Chosen, Install, choose, read_postinst
from cognix.store.cache import cache_dir
from cognix.store.deb import control_dir, merged_path
from cognix.store.entries import entry_key, make_entry, remove_tree

NAME = "system/postinst"
FIXUPS_FORMAT = "1"  # bump when what the entry holds changes
OUT = "/cognix-out"
LDCONFIG = ("usr/sbin/ldconfig",)
FC_CACHE = ("usr/bin/fc-cache",)
FC_CACHE_DIR = "var/cache/fontconfig"
PIXBUF_QUERY = ("usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/gdk-pixbuf-query-loaders", "usr/bin/gdk-pixbuf-query-loaders")
PIXBUF_LOADERS = ("usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders", "usr/lib/gdk-pixbuf-2.0/2.10.0/loaders")
PIXBUF_CACHE = "usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache"
SCHEMAS_TOOL = ("usr/lib/x86_64-linux-gnu/glib-2.0/glib-compile-schemas", "usr/bin/glib-compile-schemas")
SCHEMAS_DIR = "usr/share/glib-2.0/schemas"
TIMEOUT_S = 600


def epoch_of(created: str) -> int:
    """SOURCE_DATE_EPOCH (seconds) of an RFC 3339 time such as 1970-01-01T00:00:01Z."""
    return int(datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp())


def postinst(entry: Entry) -> str | None:
    """The postinst a deb entry kept beside its tree, or None."""
    path = control_dir(Path(entry.root)) / "postinst"
    try:
        return path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return None


def package_of(entry: Entry) -> str:
    """deb/libblas3_3.11.0-2_amd64 -> libblas3."""
    return entry.name.split("/", 1)[-1].split("_", 1)[0]


def registered(entries: list[Entry]) -> tuple[list[tuple[str, Install]], list[str]]:
    """(package, --install call) of every deb entry's postinst, and notes on what could not be read."""
    out: list[tuple[str, Install]] = []
    notes: list[str] = []
    for entry in entries:
        if not entry.name.startswith("deb/") or (text := postinst(entry)) is None:
            continue
        installs, why = read_postinst(text)
        out += [(package_of(entry), i) for i in installs]
        notes += [f"{package_of(entry)} postinst: {n}" for n in why]
    return out, notes


def fixups_key(base: list[Entry], tools: list[Entry], epoch: int) -> str:
    scripts = [f"{e.name}:{hashlib.sha256((postinst(e) or '').encode('utf-8', 'surrogateescape')).hexdigest()}"
               for e in base if e.name.startswith("deb/")]
    return entry_key("fixups", FIXUPS_FORMAT, str(epoch), *(f"{e.name}={e.digest}" for e in base),
                     *(f"tool {e.name}={e.digest}" for e in tools), *scripts)


def fixups_entry(base: list[Entry], tools: list[Entry], *, epoch: int) -> Entry:
    """The entry over `base` (the image's debs, interpreter and system entry, in image order); tools: build-only
    entries the steps run from (libc-bin's ldconfig), never in the image."""

    def build(tree: Path) -> None:
        build_fixups(tree, base, tools, epoch=epoch)

    return make_entry(fixups_key(base, tools, epoch), NAME, build, references=sorted(e.name for e in base))


def _mkdirs(tree: Path, rel: str) -> Path:
    path = tree
    for part in rel.split("/"):
        path = path / part
        if path.is_symlink():
            raise StoreError(f"{rel!r} passes through a symlink of the image tree", where=str(tree))
        if not path.is_dir():
            path.mkdir()
            os.chmod(path, 0o755)
    return path


def _write(tree: Path, rel: str, data: bytes) -> None:
    parent, _, name = rel.rpartition("/")
    target = (_mkdirs(tree, parent) if parent else tree) / name
    target.write_bytes(data)
    os.chmod(target, 0o644)


def _symlink(root: Path, rel: str, target: str) -> None:
    parent, _, name = rel.rpartition("/")
    path = _mkdirs(root, parent) / name
    if path.is_symlink():
        path.unlink()
    os.symlink(target, path)


def alternatives_links(scratch: Path, chosen: list[Chosen]) -> dict[str, str]:
    """Where (relative to the image root, through no symlink) each link of the chosen alternatives goes, and its
    target, as update-alternatives makes them: never over something that is not a symlink, never in a directory
    the image lacks (/etc/alternatives aside)."""
    node = fs_node(str(scratch))
    links: dict[str, str] = {}
    for alt in chosen:
        for link, target in alt.links():
            parent, _, name = merged_path(link.lstrip("/")).rpartition("/")
            if not name:
                continue
            hit = resolve("/" + parent, node)
            if hit is None and parent == "etc/alternatives":
                hit = (parent, "d")
            if hit is None or hit[1] != "d":
                continue
            rel = f"{hit[0]}/{name}" if hit[0] else name
            existing = node(rel)
            if existing is not None and not existing.startswith("l:"):
                continue  # "not replacing ... with a link"
            links[rel] = "/" + merged_path(target.lstrip("/"))
    return links


def _stamp_dirs(root: Path, epoch: int) -> None:
    """Every directory of the scratch tree (its own, never the store's) gets the image's mtime: fontconfig records
    a font directory's mtime in its cache and fc-cache removes caches whose directory's differs."""
    for dirpath, dirs, _files in os.walk(root, topdown=False):
        for name in dirs:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.utime(path, (epoch, epoch), follow_symlinks=False)
    os.utime(root, (epoch, epoch))


def _find(scratch: Path, candidates: tuple[str, ...]) -> str | None:
    node = fs_node(str(scratch))
    for rel in candidates:
        hit = resolve("/" + rel, node)
        if hit is not None and hit[1] == "f":
            return "/" + rel
    return None


def _env(epoch: int) -> dict[str, str]:
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/tmp", "LC_ALL": "C", "TZ": "UTC",
            "SOURCE_DATE_EPOCH": str(epoch)}


def _run(scratch: Path, out: Path, argv: list[str], epoch: int, what: str, *, required: bool,
         binds: list[tuple[str, str, bool]] = ()) -> bytes | None:
    proc = run_in_tree(scratch, argv, env=_env(epoch), timeout=TIMEOUT_S,
                       binds=[(str(out), OUT, True), *binds])
    if proc.returncode == 0:
        return proc.stdout
    detail = (proc.stderr or proc.stdout).decode(errors="replace").strip()[-2000:]
    if required:
        raise StoreError(f"{what} failed inside the image tree (exit {proc.returncode}):\n{detail}",
                         fix="this is a bug in cognix or the package; report it with the output above")
    print(f"warning: {what} failed inside the image tree (exit {proc.returncode}), its cache is left out "
          f"(as Debian's postinst ignores it): {detail.splitlines()[-1] if detail else ''}", file=sys.stderr)
    return None


def build_fixups(tree: Path, base: list[Entry], tools: list[Entry], *, epoch: int) -> None:
    base_dir = cache_dir() / "tmp"
    base_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=base_dir, prefix="fixups-"))
    try:
        scratch, out = work / "tree", work / "out"
        scratch.mkdir()
        out.mkdir()
        assemble([*tools, *base], scratch, link=True)  # the image's own files win over the tools'
        # 1. alternatives, first: ldconfig must see /usr/lib/x86_64-linux-gnu/libblas.so.3 & co.
        calls, notes = registered(base)
        node = fs_node(str(scratch))

        def exists(path: str) -> bool:
            hit = resolve("/" + merged_path(path.lstrip("/")), node)
            return hit is not None and hit[1] != "d"

        for rel, target in sorted(alternatives_links(scratch, choose(calls, exists)).items()):
            _symlink(tree, rel, target)
            _symlink(scratch, rel, target)
        for note in notes:
            print(f"warning: {note}", file=sys.stderr)
        _stamp_dirs(scratch, epoch)  # every directory's mtime as in the image, for the caches that record them
        # 2. /etc/ld.so.cache: the image's ldconfig, no links made (-X), the cache written beside the tree
        if (ldconfig := _find(scratch, LDCONFIG)) is not None:
            _run(scratch, out, [ldconfig, "-X", "-C", f"{OUT}/ld.so.cache"], epoch, "ldconfig", required=True)
            _write(tree, "etc/ld.so.cache", (out / "ld.so.cache").read_bytes())
        else:
            print("warning: no ldconfig (Debian package libc-bin) for the image: it gets no /etc/ld.so.cache, so "
                  "libraries outside the default directories are not found; run `cognix lock` again to lock it",
                  file=sys.stderr)
        # 3. fontconfig's caches, where the image has fc-cache (Debian package fontconfig)
        if (fc_cache := _find(scratch, FC_CACHE)) is not None:
            fonts = out / "fontconfig"
            fonts.mkdir()
            _run(scratch, out, [fc_cache, "-s", "-f"], epoch, "fc-cache", required=True,
                 binds=[(str(fonts), "/" + FC_CACHE_DIR, True)])
            for path in sorted(fonts.iterdir()):
                if path.is_file() and not path.is_symlink():
                    _write(tree, f"{FC_CACHE_DIR}/{path.name}", path.read_bytes())
        # 4. gdk-pixbuf's loaders, as Debian's trigger lists them: every *.so below the loader directories, sorted
        query = _find(scratch, PIXBUF_QUERY)
        dirs = [d for d in PIXBUF_LOADERS if resolve("/" + d, node) == (d, "d")]
        if query is not None and dirs:
            loaders = sorted(f"/{d}/{os.path.relpath(os.path.join(dp, f), scratch / d)}"
                             for d in dirs for dp, _ds, fs in os.walk(scratch / d) for f in fs if f.endswith(".so"))
            data = _run(scratch, out, [query, *loaders], epoch, "gdk-pixbuf-query-loaders", required=False)
            if data is not None:
                _write(tree, PIXBUF_CACHE, data)
        # 5. GSettings schemas
        schemas = _find(scratch, SCHEMAS_TOOL)
        if schemas is not None and resolve("/" + SCHEMAS_DIR, node) == (SCHEMAS_DIR, "d"):
            (out / "schemas").mkdir()
            if _run(scratch, out, [schemas, f"--targetdir={OUT}/schemas", "/" + SCHEMAS_DIR], epoch,
                    "glib-compile-schemas", required=False) is not None \
                    and (out / "schemas" / "gschemas.compiled").is_file():
                _write(tree, f"{SCHEMAS_DIR}/gschemas.compiled", (out / "schemas" / "gschemas.compiled").read_bytes())
    finally:
        remove_tree(work)


__all__ = ["NAME", "epoch_of", "fixups_entry", "registered"]
