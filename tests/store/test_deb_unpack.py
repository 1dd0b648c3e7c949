"""Unpacking .debs: merged /usr (as every Debian install since bookworm), links rewritten to match, escapes refused."""

from __future__ import annotations

import lzma
from pathlib import Path

import pytest
from tarkit import tar_bytes

from cognix.errors import StoreError
from cognix.store.deb import _merged_link, control_dir, merged_path, unpack_deb


def _deb(path: Path, members: list[tuple[str, str, str | bytes]], control: bytes = b"") -> Path:
    """A .deb (ar: debian-binary, control.tar.xz, data.tar.xz); members: (kind, name, data or link target)."""
    data = tar_bytes(members)
    parts = [("debian-binary", b"2.0\n"), ("control.tar.xz", lzma.compress(control)),
             ("data.tar.xz", lzma.compress(data))]
    out = bytearray(b"!<arch>\n")
    for name, body in parts:
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(body):<10}`\n".encode()
        out += body + (b"\n" if len(body) % 2 else b"")
    path.write_bytes(bytes(out))
    return path


def test_merged_usr_paths_and_links() -> None:
    assert merged_path("bin/sh") == "usr/bin/sh" and merged_path("lib64/ld.so") == "usr/lib64/ld.so"
    assert merged_path("usr/bin/sh") == "usr/bin/sh" and merged_path("etc/passwd") == "etc/passwd"
    # a relative link keeps pointing at the same file from its new place
    assert _merged_link("bin/foo", "usr/bin/foo", "../usr/bin/bar") == "bar"
    assert _merged_link("lib/x86_64-linux-gnu/libz.so.1", "usr/lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.3") == \
        "libz.so.1.3"
    assert _merged_link("sbin/x", "usr/sbin/x", "/usr/bin/y") == "/usr/bin/y"  # absolute: resolved in the image


def test_unpack_merges_usr(tmp_path: Path) -> None:
    deb = _deb(tmp_path / "a.deb", [
        ("dir", "./", ""), ("dir", "./bin", ""), ("file", "./bin/tool", "#!/bin/sh\n"),
        ("sym", "./bin/alias", "tool"), ("dir", "./lib", ""), ("file", "./lib/libx.so.1", b"\x7fELF"),
        ("lnk", "./lib/libx-copy.so.1", "./lib/libx.so.1"), ("sym", "./lib64", "usr/lib64"),
        ("dir", "./usr/share/doc", ""), ("file", "./usr/share/doc/README", "hi"),
    ])
    tree = tmp_path / "tree"
    unpack_deb(deb, tree)
    assert (tree / "usr/bin/tool").read_text() == "#!/bin/sh\n" and (tree / "usr/bin/alias").readlink() == Path("tool")
    assert (tree / "usr/lib/libx-copy.so.1").stat().st_ino == (tree / "usr/lib/libx.so.1").stat().st_ino
    assert not (tree / "bin").exists() and not (tree / "lib").exists() and not (tree / "lib64").exists()
    assert (tree / "usr/share/doc/README").read_text() == "hi"


@pytest.mark.parametrize(("members", "message"), [
    # a file written through a link that points at the host
    ([("sym", "./usr/share/d", "/tmp"), ("file", "./usr/share/d/PWNED", "x")], "passes through the link"),
    # a hard link to a host file reached through a link
    ([("sym", "./usr/share/s", "/etc"), ("lnk", "./usr/share/copy", "./usr/share/s/passwd")], "passes through"),
    ([("file", "./../../escape", "x")], "unsafe path"),
    ([("dir", "./usr/share/x", ""), ("sym", "./usr/share/x", "y")], "would replace a directory"),
])
def test_escapes_are_refused(tmp_path: Path, members: list, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        unpack_deb(_deb(tmp_path / "evil.deb", members), tmp_path / "tree")
    assert not (Path("/tmp") / "PWNED").exists()


def test_control_files_are_kept_beside_the_tree_never_in_it(tmp_path: Path) -> None:
    control = tar_bytes([("dir", "./", ""), ("file", "./control", "Package: libblas3\n"),
                         ("file", "./postinst", "#!/bin/sh\nupdate-alternatives --install /a a /b 1\n"),
                         ("file", "./triggers", "activate-noawait ldconfig\n"), ("file", "./md5sums", "x\n")])
    deb = _deb(tmp_path / "a.deb", [("dir", "./", ""), ("dir", "./usr", ""), ("file", "./usr/f", "f\n")], control)
    tree = tmp_path / "entry" / "tree"
    tree.mkdir(parents=True)
    unpack_deb(deb, tree, control=control_dir(tree))
    assert sorted(p.name for p in control_dir(tree).iterdir()) == ["postinst", "triggers"]
    assert (control_dir(tree) / "postinst").read_text().startswith("#!/bin/sh\nupdate-alternatives")
    assert sorted(str(p.relative_to(tree)) for p in tree.rglob("*")) == ["usr", "usr/f"]
    # a package with an empty control member still unpacks, its control directory empty
    other = tmp_path / "other" / "tree"
    other.mkdir(parents=True)
    unpack_deb(_deb(tmp_path / "b.deb", [("dir", "./", "")]), other, control=control_dir(other))
    assert list(control_dir(other).iterdir()) == []
