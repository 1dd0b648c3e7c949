"""Tiny ELF files and ld.so.cache files made byte by byte, for the ELF reader's and the library check's tests."""

from __future__ import annotations

import struct

from cognix.store.elf import DT_NEEDED, DT_RPATH, DT_RUNPATH, DT_SONAME, DT_STRSZ, DT_STRTAB


def make_elf(*, needed=(), soname=None, rpath=None, runpath=None, interp=None, bits=64, little=True, machine=62,
             e_type=3, pyinit=False, xnum=False) -> bytes:
    """A minimal ELF file: header, program headers (PT_LOAD over the whole file, PT_DYNAMIC, PT_INTERP), a dynamic
    section and its string table."""
    end = "<" if little else ">"
    strings = b"\0"
    offsets = {}
    for text in [*needed, soname, rpath, runpath, "PyInit_mod" if pyinit else None]:
        if text is not None and text not in offsets:
            offsets[text] = len(strings)
            strings += text.encode() + b"\0"
    ehsize, phsize, dynsize = (64, 56, 16) if bits == 64 else (52, 32, 8)
    phnum = 3 if interp else 2
    interp_bytes = (interp.encode() + b"\0") if interp else b""
    dyn_entries = [(DT_NEEDED, offsets[n]) for n in needed]
    dyn_entries += [(DT_SONAME, offsets[soname])] if soname else []
    dyn_entries += [(DT_RPATH, offsets[rpath])] if rpath else []
    dyn_entries += [(DT_RUNPATH, offsets[runpath])] if runpath else []
    vaddr = 0x400000
    ph_off = ehsize
    interp_off = ph_off + phnum * phsize
    str_off = interp_off + len(interp_bytes)
    dyn_off = str_off + len(strings)
    dyn_off += (-dyn_off) % 8
    dyn_entries += [(DT_STRTAB, vaddr + str_off), (DT_STRSZ, len(strings)), (0, 0)]
    dyn_fmt = end + ("qQ" if bits == 64 else "iI")
    dynamic = b"".join(struct.pack(dyn_fmt, t, v) for t, v in dyn_entries)
    total = dyn_off + len(dynamic)
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 1 if little else 2, 1]) + bytes(9)
    phnum_field = 0xFFFF if xnum else phnum
    if bits == 64:
        header = ident + struct.pack(end + "HHIQQQIHHHHHH", e_type, machine, 1, 0, ph_off, 0, 0, ehsize, phsize,
                                     phnum_field, 0, 0, 0)
        ph = lambda t, off, size: struct.pack(end + "IIQQQQQQ", t, 5, off, vaddr + off, vaddr + off, size, size, 8)  # noqa: E731
    else:
        header = ident + struct.pack(end + "HHIIIIIHHHHHH", e_type, machine, 1, 0, ph_off, 0, 0, ehsize, phsize,
                                     phnum_field, 0, 0, 0)
        ph = lambda t, off, size: struct.pack(end + "IIIIIIII", t, off, vaddr + off, vaddr + off, size, size, 5, 8)  # noqa: E731
    phs = [struct.pack(end + ("IIQQQQQQ" if bits == 64 else "IIIIIIII"), 1, *((5, 0, vaddr, vaddr, total, total, 8)
                                                                               if bits == 64 else
                                                                               (0, vaddr, vaddr, total, total, 5, 8)))]
    phs.append(ph(2, dyn_off, len(dynamic)))
    if interp:
        phs.append(ph(3, interp_off, len(interp_bytes)))
    body = header + b"".join(phs) + interp_bytes + strings
    body += bytes(dyn_off - len(body)) + dynamic
    return body


def make_ld_cache(entries: list[tuple[int, str, str]], *, old: bool = False) -> bytes:
    """glibc's new cache format (optionally after an empty old-format header): (flags, soname, path) entries."""
    strings = b""
    offsets = []
    header = 48
    table = header + 24 * len(entries)
    for _flags, key, value in entries:
        k = table + len(strings)
        strings += key.encode() + b"\0"
        v = table + len(strings)
        strings += value.encode() + b"\0"
        offsets.append((k, v))
    new = b"glibc-ld.so.cache1.1" + struct.pack("<IIB3xI3I", len(entries), len(strings), 2, 0, 0, 0, 0)
    assert len(new) == header
    for (flags, _k, _v), (k, v) in zip(entries, offsets):
        new += struct.pack("<iIIIQ", flags, k, v, 0, 0)
    new += strings
    if old:
        return b"ld.so-1.7.0\0" + struct.pack("<I", 0) + new
    return new
