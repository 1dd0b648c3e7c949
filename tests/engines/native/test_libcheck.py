"""The shared-library check on plain data: stacked entries, symlinks, glibc's search order, what counts as loaded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from elfkit import make_elf, make_ld_cache

from cognix.engines.native import libcheck as L
from cognix.engines.native.libcheck import EntryIndex, Image, check_libraries, index_tree, resolve
from cognix.errors import StoreError
from cognix.image.plan import Entry
from cognix.store.elf import ElfInfo

ENV = ["PATH=/usr/local/bin:/usr/bin:/bin"]


def lib(*needed: str, soname: str | None = None, rpath=(), runpath=(), exe: bool = False,
        module: bool = False, machine: int = 62) -> ElfInfo:
    return ElfInfo(2, machine, 3, list(needed), soname, list(rpath), list(runpath),
                   "/lib64/ld-linux-x86-64.so.2" if exe else None, module)


def stack(*layers: tuple[str, dict[str, str], dict[str, ElfInfo]], root: str = "/nonexistent") -> Image:
    image = Image()
    for name, nodes, elf in layers:
        image.add(Entry(name=name, root=root, size=0), EntryIndex(nodes, elf))
    return image


def dirs(*paths: str) -> dict[str, str]:
    out = {}
    for p in paths:
        parts = p.split("/")
        for i in range(1, len(parts) + 1):
            out["/".join(parts[:i])] = "d"
    return out


MERGED = {"bin": "l:usr/bin", "lib": "l:usr/lib", "lib64": "l:usr/lib64"}
LIBC = {**dirs("usr/lib/x86_64-linux-gnu", "usr/bin"), "usr/lib/x86_64-linux-gnu/libc.so.6": "f"}
LIBC_ELF = {"usr/lib/x86_64-linux-gnu/libc.so.6": lib(soname="libc.so.6")}


def base(*extra) -> list:
    return [("deb/libc6", LIBC, LIBC_ELF), ("system", MERGED, {}), *extra]


def missing(image: Image, env=ENV) -> list[tuple[str, str]]:
    return [(m.file, m.library) for m in L.analyse(image, env)[0]]


def optional(image: Image, env=ENV) -> list[tuple[str, str]]:
    return [(m.file, m.library) for m in L.analyse(image, env)[1]]


def test_resolve_follows_links_inside_the_image() -> None:
    nodes = {**dirs("usr/lib/x86_64-linux-gnu/blas", "etc/alternatives"), "lib": "l:usr/lib",
             "usr/lib/x86_64-linux-gnu/libblas.so.3": "l:/etc/alternatives/libblas.so.3",
             "etc/alternatives/libblas.so.3": "l:/usr/lib/x86_64-linux-gnu/blas/libblas.so.3",
             "usr/lib/x86_64-linux-gnu/blas/libblas.so.3": "l:libblas.so.3.11.0",
             "usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0": "f",
             "up": "l:usr/lib/x86_64-linux-gnu/blas/../../..", "loop": "l:loop", "file": "f"}
    assert resolve("/lib/x86_64-linux-gnu/libblas.so.3", nodes.get) == (
        "usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0", "f")
    assert resolve("/up/lib", nodes.get) == ("usr/lib", "d")  # `..` from the resolved directory
    assert resolve("/loop", nodes.get) is None
    assert resolve("/file/below", nodes.get) is None
    assert resolve("/absent", nodes.get) is None
    assert resolve("/", nodes.get) == ("", "d")


def test_later_entries_win_and_whiteouts_remove() -> None:
    image = stack(("a", {**dirs("opt/x"), "opt/x/f": "f", "opt/y": "f"}, {}),
                  ("b", {"opt": "d", "opt/x": "l:/elsewhere", "opt/y": "d", "opt/y/z": "f"}, {}),
                  ("run", {"opt": "d", "opt/y": "w"}, {}))
    assert "opt/x/f" not in image.nodes and image.nodes["opt/x"] == "l:/elsewhere"
    assert "opt/y" not in image.nodes and "opt/y/z" not in image.nodes
    image = stack(("a", {**dirs("opt/x"), "opt/x/f": "f", "opt/x/g": "f"}, {}), ("run", {**dirs("opt/x"), "opt/x": "o"}, {}))
    assert "opt/x/f" not in image.nodes and image.nodes["opt/x"] == "d"


def test_index_tree_records_links_whiteouts_and_elf(tmp_path: Path) -> None:
    (tmp_path / "usr/lib").mkdir(parents=True)
    (tmp_path / "usr/lib/libq.so.1").write_bytes(make_elf(needed=["libc.so.6"], soname="libq.so.1"))
    (tmp_path / "usr/lib/text").write_text("hello")
    os.symlink("libq.so.1", tmp_path / "usr/lib/libq.so")
    (tmp_path / "usr/.wh.gone").write_bytes(b"")
    index = index_tree(str(tmp_path))
    assert index.nodes == {"usr": "d", "usr/lib": "d", "usr/lib/libq.so.1": "f", "usr/lib/text": "f",
                           "usr/lib/libq.so": "l:libq.so.1", "usr/gone": "w"}
    assert list(index.elf) == ["usr/lib/libq.so.1"] and index.elf["usr/lib/libq.so.1"].soname == "libq.so.1"


def test_default_directories_through_merged_usr_and_alternatives() -> None:
    blas = {**dirs("usr/lib/x86_64-linux-gnu/blas"),
            "usr/lib/x86_64-linux-gnu/blas/libblas.so.3": "f"}
    ffmpeg = {"usr/bin/ffmpeg": "f"}
    elf = {"usr/bin/ffmpeg": lib("libc.so.6", "libblas.so.3", exe=True)}
    image = stack(*base(("deb/libblas3", blas, {"usr/lib/x86_64-linux-gnu/blas/libblas.so.3": lib("libc.so.6")}),
                        ("deb/ffmpeg", {**dirs("usr/bin"), **ffmpeg}, elf)))
    assert missing(image) == [("/usr/bin/ffmpeg", "libblas.so.3")]
    fixed = stack(*base(("deb/libblas3", blas, {"usr/lib/x86_64-linux-gnu/blas/libblas.so.3": lib("libc.so.6")}),
                        ("deb/ffmpeg", {**dirs("usr/bin"), **ffmpeg}, elf),
                        ("system/postinst", {**dirs("usr/lib/x86_64-linux-gnu", "etc/alternatives"),
                                             "usr/lib/x86_64-linux-gnu/libblas.so.3": "l:/etc/alternatives/b",
                                             "etc/alternatives/b": "l:/lib/x86_64-linux-gnu/blas/libblas.so.3"}, {})))
    assert missing(fixed) == []


def test_rpath_runpath_origin_and_ld_library_path() -> None:
    site = "usr/local/lib/python3.11/site-packages"
    nodes = {**dirs(f"{site}/pkg", f"{site}/pkg.libs", "opt/nv/lib"), f"{site}/pkg/_c.so": "f",
             f"{site}/pkg.libs/libdep.so": "f", "opt/nv/lib/libnv.so.1": "f"}
    elf = {f"{site}/pkg/_c.so": lib("libdep.so", "libnv.so.1", runpath=["$ORIGIN/../pkg.libs"], module=True),
           f"{site}/pkg.libs/libdep.so": lib("libc.so.6"), "opt/nv/lib/libnv.so.1": lib("libc.so.6")}
    image = stack(*base(("wheel/pkg", nodes, elf)))
    assert missing(image) == [(f"/{site}/pkg/_c.so", "libnv.so.1")]
    assert missing(image, [*ENV, "LD_LIBRARY_PATH=/opt/nv/lib"]) == []


def test_rpath_is_inherited_from_the_loader_runpath_is_not() -> None:
    site = "usr/lib/python3/dist-packages"
    nodes = {**dirs(f"{site}/cv2", f"{site}/opencv.libs"), f"{site}/cv2/cv2.so": "f",
             f"{site}/opencv.libs/libavformat-1.so": "f", f"{site}/opencv.libs/libavcodec-2.so": "f"}
    vendored = {f"{site}/opencv.libs/libavformat-1.so": lib("libavcodec-2.so"),
                f"{site}/opencv.libs/libavcodec-2.so": lib("libc.so.6")}
    with_rpath = {f"{site}/cv2/cv2.so": lib("libavformat-1.so", rpath=["$ORIGIN/../opencv.libs"], module=True),
                  **vendored}
    assert missing(stack(*base(("wheel/opencv", nodes, with_rpath)))) == []
    with_runpath = {f"{site}/cv2/cv2.so": lib("libavformat-1.so", runpath=["$ORIGIN/../opencv.libs"], module=True),
                    **vendored}
    assert missing(stack(*base(("wheel/opencv", nodes, with_runpath)))) == [
        (f"/{site}/opencv.libs/libavformat-1.so", "libavcodec-2.so")]


def test_a_name_already_loaded_is_not_searched_again() -> None:
    site = "usr/lib/python3/dist-packages"
    nodes = {**dirs(f"{site}/m", f"{site}/m/lib"), f"{site}/m/_m.so": "f", f"{site}/m/lib/libb.so": "f",
             f"{site}/m/lib/liba.so": "f"}
    elf = {f"{site}/m/_m.so": lib("liba.so", "libb.so", runpath=["$ORIGIN/lib"], module=True),
           f"{site}/m/lib/liba.so": lib("libb.so"),  # no path of its own: libb is mapped already
           f"{site}/m/lib/libb.so": lib(soname="libb.so")}
    assert missing(stack(*base(("wheel/m", nodes, elf)))) == []


def test_ld_so_cache_is_consulted(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/ld.so.cache").write_bytes(make_ld_cache([(0x0303, "libx.so.1", "/usr/local/lib/libx.so.1")]))
    local = {**dirs("usr/local/lib", "usr/bin"), "usr/local/lib/libx.so.1": "f", "usr/bin/tool": "f"}
    elf = {"usr/local/lib/libx.so.1": lib("libc.so.6"), "usr/bin/tool": lib("libx.so.1", exe=True)}
    without = stack(*base(("deb/x", local, elf)))
    assert missing(without) == [("/usr/bin/tool", "libx.so.1")]
    image = stack(*base(("deb/x", local, elf)), root=str(tmp_path))
    image.add(Entry(name="system/postinst", root=str(tmp_path), size=0),
              EntryIndex({"etc": "d", "etc/ld.so.cache": "f"}, {}))
    assert missing(image) == []


def test_wrong_machine_is_skipped_and_driver_libraries_are_never_required() -> None:
    nodes = {**dirs("usr/lib/x86_64-linux-gnu", "usr/bin"), "usr/bin/t": "f",
             "usr/lib/x86_64-linux-gnu/libq.so": "f"}
    elf = {"usr/bin/t": lib("libq.so", "libcuda.so.1", "libnvidia-ml.so.1", exe=True),
           "usr/lib/x86_64-linux-gnu/libq.so": lib(machine=183)}
    assert missing(stack(*base(("deb/t", nodes, elf)))) == [("/usr/bin/t", "libq.so")]


def test_plugins_and_optional_modules_are_warnings() -> None:
    site = "usr/local/lib/python3.11/site-packages"
    nodes = {**dirs("usr/lib/x86_64-linux-gnu/caca", f"{site}/numba/np/ufunc", f"{site}/cv2/qt/plugins",
                    f"{site}/torch/bin", f"{site}/torch/lib"),
             "usr/lib/x86_64-linux-gnu/caca/libgl_plugin.so": "f", f"{site}/numba/np/ufunc/tbbpool.so": "f",
             f"{site}/cv2/qt/plugins/libqxcb.so": "f", f"{site}/torch/bin/tests": "f", f"{site}/torch/lib/libc10.so": "f"}
    elf = {"usr/lib/x86_64-linux-gnu/caca/libgl_plugin.so": lib("libGLU.so.1"),
           f"{site}/numba/np/ufunc/tbbpool.so": lib("libtbb.so.12", module=True),
           f"{site}/cv2/qt/plugins/libqxcb.so": lib("libSM.so.6"),
           f"{site}/torch/bin/tests": lib("libc10.so", exe=True),  # libc10 is in the image: no word
           f"{site}/torch/lib/libc10.so": lib("libc.so.6")}
    image = stack(*base(("deb/libcaca0", {k: v for k, v in nodes.items() if "caca" in k or "x86_64" in k or
                                          k in ("usr", "usr/lib")},
                         {k: v for k, v in elf.items() if "caca" in k}),
                        ("wheel/x", {k: v for k, v in nodes.items() if "caca" not in k},
                         {k: v for k, v in elf.items() if "caca" not in k})))
    assert missing(image) == []
    assert sorted(optional(image)) == [("/usr/lib/x86_64-linux-gnu/caca/libgl_plugin.so", "libGLU.so.1"),
                                       (f"/{site}/cv2/qt/plugins/libqxcb.so", "libSM.so.6"),
                                       (f"/{site}/numba/np/ufunc/tbbpool.so", "libtbb.so.12")]


def test_top_level_extension_modules_and_executables_on_path_must_load() -> None:
    site = "usr/local/lib/python3.11/site-packages"
    nodes = {**dirs(f"{site}/cv2", "usr/local/bin"), f"{site}/cv2/cv2.abi3.so": "f", "usr/local/bin/tool": "f",
             f"{site}/top.so": "f"}
    elf = {f"{site}/cv2/cv2.abi3.so": lib("libGL.so.1", module=True), "usr/local/bin/tool": lib("libx.so", exe=True),
           f"{site}/top.so": lib("libtop.so", module=True)}
    assert sorted(missing(stack(*base(("wheel/x", nodes, elf))))) == [
        ("/usr/local/bin/tool", "libx.so"), (f"/{site}/cv2/cv2.abi3.so", "libGL.so.1"), (f"/{site}/top.so", "libtop.so")]


def _tree(root: Path, files: dict[str, bytes | str]) -> Entry:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            os.symlink(data, path)
        else:
            path.write_bytes(data)
    return Entry(name=f"deb/{root.name}", root=str(root), size=0, digest=f"digest-{root.name}")


def test_check_error_names_file_library_and_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    libc = _tree(tmp_path / "libc6", {"usr/lib/x86_64-linux-gnu/libc.so.6": make_elf(soname="libc.so.6")})
    tool = _tree(tmp_path / "tool", {"usr/bin/tool": make_elf(needed=["libc.so.6", "libGL.so.1"],
                                                               interp="/lib64/ld-linux-x86-64.so.2", e_type=2)})
    asked: list[list[str]] = []

    def providers(names: list[str]) -> list[list[str]]:
        asked.append(names)
        return [["libgl1", "primus-libs"] for _ in names]

    with pytest.raises(StoreError) as err:
        check_libraries([libc, tool], ENV, suite="bookworm", providers=providers)
    text = err.value.message
    assert "libGL.so.1, needed by /usr/bin/tool (deb/tool): Debian package libgl1 or primus-libs" in text
    assert "add libgl1 to build.system_packages" in text and asked == [["libGL.so.1"]]
    # a passing set is remembered by its entries' digests
    gl = _tree(tmp_path / "libgl1", {"usr/lib/x86_64-linux-gnu/libGL.so.1": make_elf(soname="libGL.so.1")})
    check_libraries([libc, gl, tool], ENV, suite="bookworm", providers=providers)
    assert list((tmp_path / "cache" / "libcheck").iterdir())
    monkeypatch.setattr(L, "analyse", lambda *a, **k: pytest.fail("the verdict was not reused"))
    check_libraries([libc, gl, tool], ENV, suite="bookworm", providers=providers)


def test_error_says_when_the_library_is_in_the_image_off_the_path(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    libc = _tree(tmp_path / "libc6", {"usr/lib/x86_64-linux-gnu/libc.so.6": make_elf(soname="libc.so.6"),
                                      "usr/lib/x86_64-linux-gnu/private/libp.so.1": make_elf(soname="libp.so.1")})
    tool = _tree(tmp_path / "tool", {"usr/bin/tool": make_elf(needed=["libp.so.1"], interp="/lib64/ld.so", e_type=2)})
    with pytest.raises(StoreError) as err:
        check_libraries([libc, tool], ENV, providers=lambda names: [[] for _ in names])
    assert "the image has it at /usr/lib/x86_64-linux-gnu/private/libp.so.1, off the library path" in err.value.message
    assert "LD_LIBRARY_PATH" in err.value.fix


def test_origin_is_where_the_library_was_found_not_its_real_directory() -> None:
    nodes = {**dirs("usr/lib/x86_64-linux-gnu/real/plug", "usr/lib/x86_64-linux-gnu/plug", "usr/bin"),
             "usr/bin/t": "f", "usr/lib/x86_64-linux-gnu/libv.so.1": "l:real/libv.so.1",
             "usr/lib/x86_64-linux-gnu/real/libv.so.1": "f", "usr/lib/x86_64-linux-gnu/plug/libw.so": "f"}
    elf = {"usr/bin/t": lib("libv.so.1", exe=True),
           "usr/lib/x86_64-linux-gnu/real/libv.so.1": lib("libw.so", runpath=["$ORIGIN/plug"]),
           "usr/lib/x86_64-linux-gnu/plug/libw.so": lib()}
    assert missing(stack(*base(("deb/v", nodes, elf)))) == []  # $ORIGIN: /usr/lib/x86_64-linux-gnu, the link's


def test_a_standalone_interpreters_optional_stdlib_modules_are_warnings() -> None:
    dynload = "usr/local/lib/python3.12/lib-dynload"
    nodes = {**dirs(dynload, "usr/local/bin"), f"{dynload}/_crypt.so": "f", "usr/local/bin/python3.12": "f"}
    elf = {f"{dynload}/_crypt.so": lib("libcrypt.so.1", module=True),
           "usr/local/bin/python3.12": lib("libc.so.6", exe=True)}
    image = stack(*base(("python/cpython-3.12.9", nodes, elf)))
    assert missing(image) == [] and optional(image) == [(f"/{dynload}/_crypt.so", "libcrypt.so.1")]
    debian = stack(*base(("deb/libpython3.12-stdlib", nodes, elf)))  # Debian's: its Depends bring them
    assert missing(debian) == [(f"/{dynload}/_crypt.so", "libcrypt.so.1")]
