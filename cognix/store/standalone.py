"""Unpacking a python-build-standalone archive into its own tree, under the image's interpreter prefix.

The install_only archives hold one `python/` directory (bin/python3.X, lib/python3.X, lib/libpython3.X.so,
include/python3.X, share/) whose binaries find their libraries relative to themselves ($ORIGIN), so the tree
works at any prefix. What does not move with it (python-build-standalone's documented quirk "references to
build-time paths"): the `_sysconfigdata_*.py` module (and 3.14's `_sysconfig_vars_*.json`) and the pkg-config
files name the build machine's `/install` prefix and its clang toolchain. They are rewritten here, as uv does when
it installs these builds, so that building a C extension in the image finds the headers and uses `cc`/`c++`.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
import tarfile
from pathlib import Path

from cognix.errors import StoreError
from cognix.store.tarx import normalized, write_member

ROOT = "python/"
BUILD_PREFIX = "/install"
PATCH_FORMAT = "2"  # bump when the rewriting below changes: part of the store key
# First word of a compiler/linker variable -> what the image's toolchain (Debian's gcc) answers to.
_TOOLS = {"clang": "cc", "clang++": "c++", "llvm-ar": "ar"}
_TOOL_VARS = ("CC", "CXX", "LDSHARED", "LDCXXSHARED", "BLDSHARED", "CPP", "LINKCC", "AR", "MAINCC")


def _member_path(name: str, where: str) -> str | None:
    """`python/lib/x` -> `lib/x`; None for the `python/` directory itself; StoreError outside it."""
    norm = normalized(name, where)
    if norm == "python":
        return None
    if not norm.startswith(ROOT):
        raise StoreError(f"{name!r} is outside python-build-standalone's install_only layout (python/...)",
                         where=where, fix="use an install_only or install_only_stripped archive")
    return norm[len(ROOT):]


def _check_link(rel: str, target: str, where: str) -> None:
    """Symlinks must stay inside the interpreter's tree (the image's other paths are not the archive's business)."""
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
    if target.startswith("/") or joined == ".." or joined.startswith("../"):
        raise StoreError(f"link {rel} -> {target} points outside the interpreter", where=where)


def unpack_standalone(archive: Path, tree: Path, prefix: str, minor: str, name: str | None = None) -> None:
    """Extract `archive` so that `python/...` lands at `tree/<prefix>/...`, then fix the build-time paths."""
    where = name or archive.name
    dest = tree / prefix.lstrip("/")
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            for member in tar:
                rel = _member_path(member.name, where)
                if rel is None:
                    continue
                _extract(tar, member, dest, rel, where)
    except (tarfile.TarError, EOFError, OSError) as err:
        raise StoreError(f"cannot unpack {where}: {err}", where=str(archive)) from None
    lib = dest / "lib" / f"python{minor}"
    if not (dest / "bin" / f"python{minor}").exists() or not lib.is_dir():
        raise StoreError(f"{where} has no bin/python{minor} and lib/python{minor}: not a CPython {minor} build",
                         where=str(archive), fix="check the lock's python entry (run `cognix lock` again)")
    fix_build_paths(dest, minor, prefix)


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, rel: str, where: str) -> None:
    source = None
    if member.issym():
        _check_link(rel, member.linkname, where)
    elif member.islnk() and (source := _member_path(member.linkname, where)) is None:
        raise StoreError(f"hard link {member.name} to the archive root", where=where)
    write_member(tar, member, dest, rel, where, hardlink_rel=source)


def patch_value(key: str, value: str, prefix: str) -> str:
    """One sysconfig string: `/install` paths moved to prefix, `-isysroot X` dropped, clang -> the image's tools."""
    words: list[str] = []
    parts = value.split()
    skip = False
    for part in parts:
        if skip:
            skip = False
            continue
        if part == "-isysroot":
            skip = True
            continue
        for flag in ("", "-I", "-L", "-Wl,-rpath,"):
            if part.startswith(flag + BUILD_PREFIX) and part[len(flag) + len(BUILD_PREFIX):][:1] in ("", "/"):
                part = flag + prefix + part[len(flag) + len(BUILD_PREFIX):]
                break
        words.append(part)
    if key in _TOOL_VARS and words:
        tool = words[0].rsplit("/", 1)[-1]
        words[0] = _TOOLS.get(tool, words[0] if "/" not in words[0] else tool)
    return " ".join(words) if words != parts else value


def _patch_vars(data: dict, prefix: str) -> dict:
    out = {k: patch_value(k, v, prefix) if isinstance(v, str) else v for k, v in data.items()}
    out["PYTHON_BUILD_STANDALONE"] = 1
    return dict(sorted(out.items()))


def fix_build_paths(dest: Path, minor: str, prefix: str) -> None:
    """Rewrite `_sysconfigdata_*.py`, `_sysconfig_vars_*.json` and `lib/pkgconfig/*.pc` for `prefix`."""
    lib = dest / "lib" / f"python{minor}"
    for path in sorted(lib.glob("_sysconfigdata_*.py")):
        if path.is_symlink():
            continue
        text = path.read_text(encoding="utf-8")
        match = re.search(r"^build_time_vars\s*=\s*", text, re.M)
        if match is None:
            raise StoreError("no build_time_vars in the interpreter's sysconfig data", where=str(path))
        try:
            data = ast.literal_eval(text[match.end():].strip())
        except (ValueError, SyntaxError) as err:
            raise StoreError(f"unreadable sysconfig data: {err}", where=str(path)) from None
        # repr of str/int/float is the same on every Python cognix runs on; pprint's layout need not be
        body = "".join(f" {k!r}: {v!r},\n" for k, v in _patch_vars(data, prefix).items())
        path.write_text("# system configuration generated and used by the sysconfig module\n"
                        f"build_time_vars = {{\n{body}}}\n", encoding="utf-8")
    for path in sorted(lib.glob("_sysconfig_vars_*.json")):
        if path.is_symlink():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as err:
            raise StoreError(f"unreadable sysconfig data: {err}", where=str(path)) from None
        if isinstance(data, dict):
            path.write_text(json.dumps(_patch_vars(data, prefix), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for path in sorted((dest / "lib" / "pkgconfig").glob("*.pc")):
        if path.is_symlink() or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        fixed = re.sub(rf"^([A-Za-z_]+)={re.escape(BUILD_PREFIX)}$", r"\1=${pcfiledir}/../..", text, flags=re.M)
        if fixed != text:
            path.write_text(fixed, encoding="utf-8")
