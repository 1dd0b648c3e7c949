"""The image's shared-library check: every ELF program and library finds each library it names (DT_NEEDED).

Run over the store entries as the image stacks them (later entries win, build.run's whiteouts remove), without
assembling anything: each entry's paths and ELF facts are indexed once, cached by the entry's digest, and the
union is searched as glibc's dynamic linker searches it: DT_RPATH (when there is no DT_RUNPATH), LD_LIBRARY_PATH
from the image's Env, DT_RUNPATH ($ORIGIN, $LIB and $PLATFORM expanded), /etc/ld.so.cache, then Debian's default
directories. A candidate counts when it resolves (symlinks followed inside the image) to an x86-64 ELF file, as
the linker skips objects of another class or machine. Only x86-64 executables and shared objects are checked; the
GPU driver's libraries (libcuda.so*, libnvidia-*), which the container runtime mounts at start, are never required.

A library the image lacks fails the build (StoreError), naming the file, the library and the Debian packages that
ship it (the suite's Contents index). What the dynamic linker would find through objects already loaded by soname,
or through the RPATH of the program that loads a library, is not assumed: a library must be findable on its own.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import posixpath
import re
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from cognix.errors import CognixError, StoreError
from cognix.fileio import write_atomic
from cognix.image.plan import Entry
from cognix.store.cache import cache_dir
from cognix.store.elf import ElfInfo, is_elf, read_ld_cache, read_elf

INDEX_FORMAT = "2"  # bump when an entry's index changes shape
CHECK_FORMAT = "1"  # bump when the check's rules change (cached verdicts are then made again)
DEFAULT_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib")  # Debian's glibc
LIB_EXPANSION = "lib/x86_64-linux-gnu"  # $LIB on Debian's amd64 glibc
PLATFORM = "x86_64"
DRIVER_LIBRARIES = ("libcuda.so*", "libnvidia-*")  # mounted by the NVIDIA container runtime
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
_MAX_LINKS = 40
_SHOWN = 12  # missing libraries listed in the error


# --- resolving paths inside an image ------------------------------------------------------------------------------

def resolve(path: str, node: Callable[[str], str | None]) -> tuple[str, str] | None:
    """An absolute path resolved inside an image: (relative path of what it names, its node), symlinks followed
    (absolute ones from the image's root, `..` from the resolved directory). node(rel) gives "d", "f", "l:<target>"
    or None; it is only asked about paths whose parent is a resolved directory. None when nothing is there."""
    parts = [p for p in path.split("/") if p and p != "."]
    parts.reverse()  # a stack: the next component last
    resolved: list[str] = []
    kind = "d"
    links = 0
    while parts:
        part = parts.pop()
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        if kind != "d":
            return None  # a component below a file
        rel = "/".join([*resolved, part])
        found = node(rel)
        if found is None:
            return None
        if found.startswith("l:"):
            links += 1
            if links > _MAX_LINKS:
                return None
            target = found[2:]
            if target.startswith("/"):
                resolved = []
            parts.extend(reversed([p for p in target.split("/") if p and p != "."]))
            kind = "d"
            continue
        resolved.append(part)
        kind = found
    return "/".join(resolved), kind


def fs_node(root: str) -> Callable[[str], str | None]:
    """node() for a real directory tree (an assembled image)."""

    def node(rel: str) -> str | None:
        full = os.path.join(root, rel)
        try:
            st = os.lstat(full)
        except OSError:
            return None
        if stat.S_ISLNK(st.st_mode):
            return "l:" + os.readlink(full)
        return "d" if stat.S_ISDIR(st.st_mode) else "f"

    return node


# --- one entry's index --------------------------------------------------------------------------------------------

@dataclass
class EntryIndex:
    nodes: dict[str, str]  # rel -> "d", "f", "l:<target>", "w" (a whiteout of rel), "o" (rel is opaque)
    elf: dict[str, ElfInfo]  # rel -> ELF facts, for every ELF file


def index_tree(root: str) -> EntryIndex:
    nodes: dict[str, str] = {}
    elf: dict[str, ElfInfo] = {}
    for dirpath, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        for name in dirs + files:
            full = os.path.join(dirpath, name)
            rel = f"{rel_dir}/{name}" if rel_dir else name
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                nodes[rel] = "l:" + os.readlink(full)
            elif stat.S_ISDIR(st.st_mode):
                nodes[rel] = "d"
            elif name == OPAQUE:
                nodes[rel_dir] = "o" if rel_dir else "d"
            elif name.startswith(WHITEOUT):
                target = name[len(WHITEOUT):]
                nodes[f"{rel_dir}/{target}" if rel_dir else target] = "w"
            elif stat.S_ISREG(st.st_mode):
                nodes[rel] = "f"
                if st.st_size >= 52 and is_elf(full):
                    info = read_elf(full)
                    if info is not None:
                        elf[rel] = info
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(dirpath, d))]
    return EntryIndex(nodes, elf)


def entry_index(entry: Entry) -> EntryIndex:
    """The entry's index, cached by its digest (entries are immutable)."""
    if entry.digest is None:
        return index_tree(entry.root)
    path = cache_dir() / "elf-index" / f"{hashlib.sha256(f'{INDEX_FORMAT} {entry.digest}'.encode()).hexdigest()}.json"
    try:
        data = json.loads(path.read_text())
        return EntryIndex(dict(data["nodes"]), {k: ElfInfo.from_json(v) for k, v in data["elf"].items()})
    except (OSError, ValueError, KeyError, TypeError):
        pass
    index = index_tree(entry.root)
    with contextlib.suppress(OSError):  # a cache that can't be written only costs time
        write_atomic(path, json.dumps({"nodes": index.nodes, "elf": {k: v.to_json() for k, v in index.elf.items()}},
                                      separators=(",", ":")).encode())
    return index


# --- the image: entries stacked ---------------------------------------------------------------------------------

class Image:
    """The union of entries as the image's layers stack them."""

    def __init__(self) -> None:
        self.nodes: dict[str, str] = {}
        self.children: dict[str, set[str]] = {}
        self.elf: dict[str, ElfInfo] = {}
        self.owner: dict[str, str] = {}  # rel of an ELF file -> the entry it comes from
        self.roots: dict[str, str] = {}  # rel of a file -> the tree holding it (only for what is read back)

    def _remove_below(self, rel: str) -> None:
        for name in self.children.pop(rel, ()):
            child = f"{rel}/{name}" if rel else name
            self._remove_below(child)
            self.nodes.pop(child, None)
            self.elf.pop(child, None)
            self.owner.pop(child, None)

    def _remove(self, rel: str) -> None:
        self._remove_below(rel)
        if self.nodes.pop(rel, None) is not None:
            self.elf.pop(rel, None)
            self.owner.pop(rel, None)
            parent, _, name = rel.rpartition("/")
            self.children.get(parent, set()).discard(name)

    def add(self, entry: Entry, index: EntryIndex) -> None:
        for rel, kind in index.nodes.items():  # whiteouts and opaque directories hide lower layers first
            if kind == "w":
                self._remove(rel)
            elif kind == "o":
                self._remove_below(rel)
        for rel in sorted(index.nodes):
            kind = index.nodes[rel]
            if kind in ("w",):
                continue
            kind = "d" if kind == "o" else kind
            old = self.nodes.get(rel)
            if old == "d" and kind != "d":
                self._remove_below(rel)
            self.nodes[rel] = kind
            parent, _, name = rel.rpartition("/")
            self.children.setdefault(parent, set()).add(name)
            self.elf.pop(rel, None)
            self.owner.pop(rel, None)
            if rel in index.elf:
                self.elf[rel] = index.elf[rel]
                self.owner[rel] = entry.name
            if kind == "f" and rel in ("etc/ld.so.cache",):
                self.roots[rel] = entry.root

    def resolve(self, path: str) -> tuple[str, str] | None:
        return resolve(path, self.nodes.get)


# --- the check ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Missing:
    file: str  # absolute path in the image
    library: str
    entry: str  # the store entry the file comes from


def _expand(dirs: list[str], origin: str) -> list[str]:
    out = []
    for d in dirs:
        d = re.sub(r"\$(\{ORIGIN\}|ORIGIN)", lambda _m: origin, d)
        d = re.sub(r"\$(\{LIB\}|LIB)", LIB_EXPANSION, d)
        d = re.sub(r"\$(\{PLATFORM\}|PLATFORM)", PLATFORM, d)
        if d.startswith("/"):
            out.append(posixpath.normpath(d))
    return out


def env_library_path(env: list[str]) -> list[str]:
    """LD_LIBRARY_PATH of an image Env ("NAME=value" items), as directories."""
    for item in env:
        name, _, value = item.partition("=")
        if name == "LD_LIBRARY_PATH":
            return [d for d in value.replace(";", ":").split(":") if d.startswith("/")]
    return []


def _driver(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in DRIVER_LIBRARIES)


class _Linker:
    """glibc's search for one object's NEEDED names, over the image."""

    def __init__(self, image: Image, env: list[str]) -> None:
        self.image = image
        self.ld_path = env_library_path(env)
        self.cache: dict[str, str] = {}
        if (hit := image.resolve("/etc/ld.so.cache")) is not None and hit[1] == "f" and hit[0] in image.roots:
            with contextlib.suppress(OSError):
                with open(os.path.join(image.roots[hit[0]], hit[0]), "rb") as f:
                    self.cache = read_ld_cache(f.read())
        self._found: dict[str, str | None] = {}
        self.lib_dirs: set[str] = set()  # the library path's directories, resolved
        for d in [*DEFAULT_DIRS, *self.ld_path, *{posixpath.dirname(p) for p in self.cache.values()}]:
            if (hit := image.resolve(d)) is not None and hit[1] == "d":
                self.lib_dirs.add(hit[0])

    def loadable(self, path: str) -> str | None:
        """rel of the x86-64 ELF file an absolute path names, or None."""
        if path not in self._found:
            hit = self.image.resolve(path)
            info = self.image.elf.get(hit[0]) if hit is not None and hit[1] == "f" else None
            self._found[path] = hit[0] if info is not None and info.loadable_here else None
        return self._found[path]

    def search(self, name: str, origin: str, rpaths: list[str], runpath: list[str]) -> tuple[str, str] | None:
        """(rel of the file, the path it was found as) for a NEEDED name, or None. rpaths: the DT_RPATH directories
        in effect (the object's and its loaders', none with a DT_RUNPATH)."""
        if "/" in name:
            path = name if name.startswith("/") else posixpath.join(origin, name)
            return (got, path) if (got := self.loadable(path)) is not None else None
        for d in [*rpaths, *self.ld_path, *runpath]:
            if (got := self.loadable(f"{d}/{name}")) is not None:
                return got, f"{d}/{name}"
        if name in self.cache and (got := self.loadable(self.cache[name])) is not None:
            return got, self.cache[name]
        return next(((got, f"{d}/{name}") for d in DEFAULT_DIRS if (got := self.loadable(f"{d}/{name}")) is not None),
                    None)


def _origin(rel: str) -> str:
    return "/" + posixpath.dirname(rel)


SYSTEM_ENTRIES = ("deb/", "python/", "system", "runtime")  # name prefixes: what Debian (or cognix) guarantees


def root_kind(image: Image, linker: _Linker, rel: str, info: ElfInfo, path_dirs: set[str]) -> str | None:
    """Whether something loads this file by itself, and how surely: "sure", "maybe" or None (a library reached only
    through what loads it, such as auditwheel's `<pkg>.libs`, or a plugin a program dlopens when asked, such as Qt's
    platform plugins or libcaca's GL driver).

    Sure: a library of the library path; from a Debian package (whose shlibs dependencies are Depends), the
    interpreter or cognix, also any dynamic executable and Python extension module (but a python-build-standalone
    interpreter's lib-dynload modules are maybe: _crypt, _curses, readline need system libraries that a model
    lists only if it uses them); from a wheel, build.run or the
    model, an executable on PATH and a Python extension module at most one package below site-packages (what
    `import pkg` loads: cv2/cv2.abi3.so, torch/_C...so). Maybe: other executables and extension modules of wheels,
    optional as often as not (numba's TBB threading layer, torch 2.0's bin/nvfuser_tests)."""
    parent = posixpath.dirname(rel)
    if parent in linker.lib_dirs:
        return "sure"
    if info.interpreter is None and not info.python_module:
        return None
    owner = image.owner.get(rel, "")
    if info.python_module and owner.startswith("python/") and parent.endswith("/lib-dynload"):
        return "maybe"  # a standalone interpreter's optional stdlib modules: _crypt wants the system's libcrypt.so.1
    if owner.startswith(SYSTEM_ENTRIES):
        return "sure"
    if info.python_module:
        parts = rel.split("/")
        at = max((i for i, p in enumerate(parts) if p in PYTHON_DIRS), default=None)
        return "sure" if at is not None and len(parts) - at - 2 <= 1 else "maybe"
    return "sure" if parent in path_dirs else "maybe"


PYTHON_DIRS = ("site-packages", "dist-packages", "lib-dynload")


def load_tree(image: Image, linker: _Linker, root: str) -> tuple[list[str], list[tuple[str, str]]]:
    """What loading root maps (breadth first, as glibc does) and the (object, NEEDED name) pairs it can't find.

    A name already mapped (by the name it was asked as, or its SONAME) is not searched again; an object without
    DT_RUNPATH searches its own DT_RPATH, then its loaders' (up to the root), before LD_LIBRARY_PATH. $ORIGIN is
    the directory an object was found in (a library reached through a symlink has the symlink's), as glibc has it."""
    order = [root]
    loader: dict[str, str | None] = {root: None}
    origin: dict[str, str] = {root: _origin(root)}
    names: set[str] = set()
    if (soname := image.elf[root].soname) is not None:
        names.add(soname)
    missing: list[tuple[str, str]] = []
    i = 0
    while i < len(order):
        obj = order[i]
        i += 1
        info = image.elf[obj]
        rpaths: list[str] = []
        if not info.runpath:
            chain: str | None = obj
            while chain is not None:
                rpaths += _expand(image.elf[chain].rpath, origin[chain])
                chain = loader[chain]
        runpath = _expand(info.runpath, origin[obj])
        for name in info.needed:
            if _driver(name) or name in names:
                continue
            hit = linker.search(name, origin[obj], rpaths, runpath)
            if hit is None:
                missing.append((obj, name))
                continue
            got, as_found = hit
            names.add(name)
            if (soname := image.elf[got].soname) is not None:
                names.add(soname)
            if got not in loader:
                loader[got] = obj
                origin[got] = posixpath.dirname(posixpath.normpath(as_found)) or "/"
                order.append(got)
    return order, missing


def analyse(image: Image, env: list[str], *, only: set[str] | None = None) -> tuple[list[Missing], list[Missing]]:
    """(the NEEDED names the dynamic linker could not satisfy when loading what surely gets loaded, the same for what
    may get loaded and for files nothing loads, as far as the image lacks them under any name): see root_kind and
    load_tree. only: entry names whose files are the starting points."""
    linker = _Linker(image, env)
    path_dirs = set()
    for d in env_path(env):
        if (hit := image.resolve(d)) is not None and hit[1] == "d":
            path_dirs.add(hit[0])
    failed: dict[tuple[str, str], None] = {}
    weak: dict[tuple[str, str], None] = {}
    reached: set[str] = set()
    later: list[str] = []
    for rel in sorted(image.elf):
        info = image.elf[rel]
        if not info.loadable_here or (only is not None and image.owner.get(rel) not in only):
            continue
        kind = root_kind(image, linker, rel, info, path_dirs)
        if kind is None:
            later.append(rel)
            continue
        order, missing = load_tree(image, linker, rel)
        if kind == "sure":
            reached.update(order)
            failed.update(dict.fromkeys(missing))
        else:
            weak.update(dict.fromkeys(missing))
    for rel in later:
        if rel not in reached:
            weak.update(dict.fromkeys(load_tree(image, linker, rel)[1]))
    as_missing = [Missing("/" + rel, name, image.owner.get(rel, "?")) for rel, name in failed]
    # of the rest, only libraries the image has under no name at all are worth a word (a vendored library finds
    # its siblings through whatever loads it)
    anywhere = {rel.rsplit("/", 1)[-1] for rel in image.nodes} if weak else set()
    optional = [Missing("/" + rel, name, image.owner.get(rel, "?")) for rel, name in weak
                if (rel, name) not in failed and rel not in reached and name.rsplit("/", 1)[-1] not in anywhere]
    return as_missing, optional  # in the order loading found them: what a root needs itself comes first


def env_path(env: list[str]) -> list[str]:
    for item in env:
        name, _, value = item.partition("=")
        if name == "PATH":
            return [d for d in value.split(":") if d.startswith("/")]
    return []


def _verdict_path(entries: list[Entry], env: list[str], only: set[str] | None) -> str | None:
    if any(e.digest is None for e in entries):
        return None
    parts = [CHECK_FORMAT, *(f"{e.name}={e.digest}" for e in entries), ":".join(env_library_path(env)),
             ",".join(sorted(only)) if only is not None else "*"]
    return str(cache_dir() / "libcheck" / hashlib.sha256("\n".join(parts).encode()).hexdigest())


def check_libraries(entries: list[Entry], env: list[str], *, suite: str | None = None, mirror: str | None = None,
                    only: set[str] | None = None,
                    providers: Callable[[list[str]], list[list[str]]] | None = None) -> None:
    """StoreError unless every ELF file of the stacked entries (of those named in `only`) finds its libraries.

    A passing set of entries is remembered, so an unchanged rebuild costs one file lookup. providers: the Debian
    packages shipping each library name (default: the suite's Contents index, when it can be fetched)."""
    verdict = _verdict_path(entries, env, only)
    if verdict is not None and os.path.exists(verdict):
        return
    image = Image()
    for entry in entries:
        image.add(entry, entry_index(entry))
    missing, plugins = analyse(image, env, only=only)
    if missing:
        raise _error(image, missing, suite, mirror, providers)
    if plugins and only is None:
        names = sorted({f"{m.library} ({m.file.rsplit('/', 1)[-1]})" for m in plugins})
        print(f"warning: {len({m.file for m in plugins})} file(s) loaded only on request (plugins, optional modules) "
              f"lack libraries the image has under no name, as after `apt-get install` without Recommends or "
              f"`pip install` without the system library: {', '.join(names[:4])}"
              + (f" and {len(names) - 4} more" if len(names) > 4 else ""), file=sys.stderr)
    if verdict is not None:
        with contextlib.suppress(OSError):
            write_atomic(verdict, b"ok\n")


def _contents_providers(suite: str | None, mirror: str | None) -> Callable[[list[str]], list[list[str]]]:
    def lookup(names: list[str]) -> list[list[str]]:
        if suite is None:
            return [[] for _ in names]
        from cognix.lock.debian.contents import providers

        wanted = [(name, re.compile(rf"(?:usr/)?lib(?:32|64)?/(?:.+/)?{re.escape(name)}")) for name in names]
        try:
            return providers(suite, wanted, mirror=mirror)
        except (CognixError, OSError, EOFError, ValueError, httpx.HTTPError):  # the advice is a bonus
            return [[] for _ in names]

    return lookup


def _error(image: Image, missing: list[Missing], suite: str | None, mirror: str | None,
           providers: Callable[[list[str]], list[list[str]]] | None) -> StoreError:
    by_lib: dict[str, list[Missing]] = {}
    for m in missing:
        by_lib.setdefault(m.library, []).append(m)
    names = sorted(by_lib)
    shown = names[:_SHOWN]
    packages = (providers or _contents_providers(suite, mirror))(shown)
    elsewhere: dict[str, list[str]] = {}
    for rel in image.nodes:
        base = rel.rsplit("/", 1)[-1]
        if base in by_lib:
            elsewhere.setdefault(base, []).append("/" + rel)
    lines, to_add, paths = [], [], False
    for name, pkgs in zip(shown, packages):
        users = by_lib[name]
        who = f"{users[0].file} ({users[0].entry})" + (f" and {len(users) - 1} more" if len(users) > 1 else "")
        if name in elsewhere:
            where = f"the image has it at {', '.join(sorted(elsewhere[name])[:2])}, off the library path"
            paths = True
        elif pkgs:
            where = f"Debian package {' or '.join(pkgs)}"
            to_add.append(pkgs[0])
        else:
            where = f"no package in {suite} ships it" if suite else "no Debian package known"
        lines.append(f"  {name}, needed by {who}: {where}")
    if len(names) > len(shown):
        lines.append(f"  ... and {len(names) - len(shown)} more libraries")
    fixes = []
    if to_add:
        fixes.append(f"add {', '.join(dict.fromkeys(to_add))} to build.system_packages in cog.yaml, then run "
                     "`cognix lock`")
    if paths:
        fixes.append("put the directory holding it on LD_LIBRARY_PATH (cog.yaml `environment`)")
    if not fixes:
        fixes.append("add the package that provides it to build.system_packages, or drop what needs it")
    return StoreError("programs or libraries in the image need shared libraries it does not have:\n"
                      + "\n".join(lines), fix="; or ".join(fixes))
