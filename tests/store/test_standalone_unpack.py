"""Unpacking python-build-standalone's install_only layout under the image prefix, build-time paths fixed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from tarkit import tar_bytes

from cognix.errors import StoreError
from cognix.store.standalone import patch_value, unpack_standalone

SYSCONFIG = {
    "prefix": "/install",
    "INCLUDEPY": "/install/include/python3.12",
    "LIBDIR": "/install/lib",
    "CC": "clang -pthread",
    "CXX": "clang++ -pthread",
    "LDSHARED": "clang -pthread -shared -L/install/lib -Wl,-rpath,/install/lib",
    "AR": "/tools/llvm/bin/llvm-ar",
    "CFLAGS": "-O2 -isysroot /some/sdk -I/install/include",
    "OTHER": "/installer/path stays",
    "VERSION": 312,
}


def _archive(tmp_path: Path, members: list[tuple[str, str, bytes | str]]) -> Path:
    """members: (kind, name, data or link target); kind in file, dir, sym."""
    path = tmp_path / "cpython-3.12.16+20261110-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
    path.write_bytes(tar_bytes(members, "w:gz"))
    return path


def _good(tmp_path: Path) -> Path:
    return _archive(tmp_path, [
        ("dir", "python", b""),
        ("file", "python/bin/python3.12", b"\x7fELF..."),
        ("sym", "python/bin/python3", "python3.12"),
        ("file", "python/lib/python3.12/os.py", "# os\n"),
        ("file", "python/lib/python3.12/_sysconfigdata__linux_x86_64-linux-gnu.py",
         f"# generated\nbuild_time_vars = {SYSCONFIG!r}\n"),
        ("file", "python/lib/pkgconfig/python-3.12.pc", "prefix=/install\nlibdir=${prefix}/lib\n"),
    ])


def test_unpacks_under_the_prefix_and_fixes_sysconfig(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    unpack_standalone(_good(tmp_path), tree, "/usr/local", "3.12")
    assert (tree / "usr/local/bin/python3.12").read_bytes() == b"\x7fELF..."
    assert (tree / "usr/local/bin/python3").readlink() == Path("python3.12")
    text = (tree / "usr/local/lib/python3.12/_sysconfigdata__linux_x86_64-linux-gnu.py").read_text()
    data = ast.literal_eval(text.split("build_time_vars = ", 1)[1])
    assert data["prefix"] == "/usr/local" and data["INCLUDEPY"] == "/usr/local/include/python3.12"
    assert data["CC"] == "cc -pthread" and data["CXX"] == "c++ -pthread" and data["AR"] == "ar"
    assert data["LDSHARED"] == "cc -pthread -shared -L/usr/local/lib -Wl,-rpath,/usr/local/lib"
    assert data["CFLAGS"] == "-O2 -I/usr/local/include"
    assert data["OTHER"] == "/installer/path stays" and data["VERSION"] == 312
    assert data["PYTHON_BUILD_STANDALONE"] == 1
    assert (tree / "usr/local/lib/pkgconfig/python-3.12.pc").read_text().startswith("prefix=${pcfiledir}/../..\n")


def test_unpacking_is_deterministic(tmp_path: Path) -> None:
    archive = _good(tmp_path)
    outs = []
    for n in range(2):
        tree = tmp_path / f"t{n}"
        unpack_standalone(archive, tree, "/usr/local", "3.12")
        outs.append(sorted((p.relative_to(tree).as_posix(), p.read_bytes() if p.is_file() and not p.is_symlink()
                            else b"") for p in tree.rglob("*")))
    assert outs[0] == outs[1]


@pytest.mark.parametrize(("members", "message"), [
    ([("file", "other/bin/python3.12", b"x")], "outside python-build-standalone's install_only layout"),
    ([("file", "python/../../etc/passwd", b"x")], "unsafe path"),
    # a chain of links, each harmless as text, written through: refused before anything lands outside
    ([("sym", "python/lib/up", ".."), ("sym", "python/esc", "lib/up/lib/up/../../.."),
      ("file", "python/esc/PWNED", b"x")], "passes through the link"),
    ([("file", "python/bin/python3.12", b"x"), ("lnk", "python/bin/h", "python/bin/nothing")], "not a file"),
    ([("sym", "python/bin/evil", "../../../etc/shadow")], "points outside the interpreter"),
    ([("sym", "python/bin/evil", "/etc/shadow")], "points outside the interpreter"),
    ([("file", "python/bin/python3.11", b"x"), ("dir", "python/lib/python3.11", b"")], "not a CPython 3.12 build"),
])
def test_refuses_archives_outside_the_layout(tmp_path: Path, members: list, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        unpack_standalone(_archive(tmp_path, members), tmp_path / "tree", "/usr/local", "3.12")


def test_a_corrupt_archive_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"\x1f\x8b not gzip at all")
    with pytest.raises(StoreError, match="cannot unpack bad.tar.gz"):
        unpack_standalone(bad, tmp_path / "tree", "/usr/local", "3.12")


def test_patch_value_keeps_what_it_does_not_know() -> None:
    assert patch_value("CC", "gcc -pthread", "/p") == "gcc -pthread"
    assert patch_value("CONFIG_ARGS", "'--prefix=/install'", "/p") == "'--prefix=/install'"
    assert patch_value("BINDIR", "/install/bin", "/usr/local") == "/usr/local/bin"
