"""The ELF reader and the ld.so.cache reader, on ELF files made here byte by byte and on host libraries patched with
patchelf (and read back by readelf where binutils is installed)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from elfkit import make_elf, make_ld_cache

from cognix.store.elf import DT_NEEDED, ElfInfo, read_elf, read_ld_cache


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_reads_what_the_dynamic_linker_reads(tmp_path: Path) -> None:
    path = _write(tmp_path, "libx.so", make_elf(needed=["libc.so.6", "libm.so.6"], soname="libx.so.1",
                                               runpath="$ORIGIN/../lib:/opt/x", interp="/lib64/ld-linux-x86-64.so.2"))
    info = read_elf(path)
    assert info == ElfInfo(2, 62, 3, ["libc.so.6", "libm.so.6"], "libx.so.1", [], ["$ORIGIN/../lib", "/opt/x"],
                           "/lib64/ld-linux-x86-64.so.2", False)
    assert info.loadable_here
    assert ElfInfo.from_json(info.to_json()) == info


@pytest.mark.parametrize(("bits", "little", "machine"), [(32, True, 3), (64, False, 22), (64, True, 183)])
def test_other_classes_and_machines_are_read_and_not_loadable(tmp_path: Path, bits: int, little: bool,
                                                              machine: int) -> None:
    info = read_elf(_write(tmp_path, "lib.so", make_elf(needed=["libc.so.6"], rpath="/r", bits=bits, little=little,
                                                         machine=machine)))
    assert info is not None and info.needed == ["libc.so.6"] and info.rpath == ["/r"]
    assert not info.loadable_here


def test_python_extension_modules_are_recognised(tmp_path: Path) -> None:
    assert read_elf(_write(tmp_path, "m.so", make_elf(pyinit=True))).python_module
    assert not read_elf(_write(tmp_path, "n.so", make_elf(needed=["libPyInit_x.so"]))).python_module


def test_pn_xnum_with_no_section_header_is_refused(tmp_path: Path) -> None:
    assert read_elf(_write(tmp_path, "x.so", make_elf(xnum=True))) is None  # count in section 0, which is absent


def test_malformed_files_give_none_and_never_raise(tmp_path: Path) -> None:
    good = make_elf(needed=["libc.so.6"], soname="liby.so")
    assert read_elf(_write(tmp_path, "text", b"#!/bin/sh\necho hi\n")) is None
    assert read_elf(_write(tmp_path, "empty", b"")) is None
    assert read_elf(str(tmp_path / "absent")) is None
    for cut in range(0, len(good), 7):  # every truncation
        info = read_elf(_write(tmp_path, f"cut{cut}", good[:cut]))
        assert info is None or info.needed in ([], ["libc.so.6"])
    # a string offset past the table
    bad = bytearray(good)
    i = bad.find(struct.pack("<qQ", DT_NEEDED, 1))
    bad[i + 8:i + 16] = struct.pack("<Q", 10 ** 9)
    assert read_elf(_write(tmp_path, "bad", bytes(bad))) is None


def test_static_executables_have_no_needs(tmp_path: Path) -> None:
    data = make_elf(e_type=2)
    # drop PT_DYNAMIC: phnum 1
    data = data[:56] + struct.pack("<H", 1) + data[58:]
    info = read_elf(_write(tmp_path, "static", data))
    assert info is not None and info.needed == [] and info.type == 2


def _host_lib() -> Path:
    for candidate in ("/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1"):
        if os.path.exists(candidate):
            return Path(os.path.realpath(candidate))
    pytest.skip("no libz.so.1 on this machine")


@pytest.mark.skipif(shutil.which("patchelf") is None, reason="patchelf is not installed")
def test_host_library_patched_by_patchelf(tmp_path: Path) -> None:
    lib = tmp_path / "libz-copy.so"
    shutil.copyfile(_host_lib(), lib)
    for args in (["--set-soname", "libq.so.7"], ["--add-needed", "libextra.so.2"],  # one change at a time: some
                 ["--force-rpath", "--set-rpath", "$ORIGIN/a:/b"]):                # patchelf releases mix them up
        subprocess.run(["patchelf", *args, str(lib)], check=True)
    info = read_elf(str(lib))
    assert info is not None and info.soname == "libq.so.7" and "libextra.so.2" in info.needed
    assert info.rpath == ["$ORIGIN/a", "/b"] and info.runpath == [] and info.loadable_here
    subprocess.run(["patchelf", "--set-rpath", "/c", str(lib)], check=True)  # a RUNPATH this time
    assert read_elf(str(lib)).runpath == ["/c"]
    if shutil.which("readelf"):
        out = subprocess.run(["readelf", "-dW", str(lib)], capture_output=True, text=True, check=True).stdout
        assert re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", out) == read_elf(str(lib)).needed


# --- ld.so.cache ---------------------------------------------------------------------------------------------------

def test_ld_cache_maps_x86_64_sonames_first_entry_first() -> None:
    data = make_ld_cache([(0x0303, "libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1"),
                          (0x0303, "libz.so.1", "/usr/lib/x86_64-linux-gnu/other/libz.so.1"),
                          (0x0003, "libz.so.1", "/usr/lib32/libz.so.1"),  # i386: not ours
                          (0x0303, "libm.so.6", "/lib/x86_64-linux-gnu/libm.so.6")])
    expected = {"libz.so.1": "/usr/lib/x86_64-linux-gnu/libz.so.1", "libm.so.6": "/lib/x86_64-linux-gnu/libm.so.6"}
    assert read_ld_cache(data) == expected
    assert read_ld_cache(make_ld_cache([(0x0303, "liba.so", "/a/liba.so")], old=True)) == {"liba.so": "/a/liba.so"}


def test_ld_cache_garbage_is_empty() -> None:
    assert read_ld_cache(b"") == {}
    assert read_ld_cache(b"glibc-ld.so.cache1.1" + b"\xff" * 40) == {}
    good = make_ld_cache([(0x0303, "libz.so.1", "/z")])
    assert read_ld_cache(good[:60]) == {}


def test_host_ld_cache_matches_ldconfig_p() -> None:
    if not os.path.exists("/etc/ld.so.cache") or not os.path.exists("/sbin/ldconfig"):
        pytest.skip("no ld.so.cache or ldconfig on this machine")
    out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    expected: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        m = re.match(r"\s+(\S+) \((.*)\) => (.*)", line)
        if m and "x86-64" in m.group(2):
            expected.setdefault(m.group(1), m.group(3))
    assert read_ld_cache(Path("/etc/ld.so.cache").read_bytes()) == expected
