"""A small, careful ELF reader (what the dynamic linker reads: NEEDED, SONAME, RPATH, RUNPATH) and ld.so.cache's.

Only the ELF header, the program headers, the PT_DYNAMIC segment and the strings it names are read, by offset, so a
1 GB libtorch costs a few reads. Every offset and count is checked against the file's size: a truncated or hostile
file gives None (not an object the dynamic linker would load), never an exception or a read past its end.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

ELF_MAGIC = b"\x7fELF"
ET_EXEC, ET_DYN = 2, 3
EM_X86_64 = 62
ELFCLASS64 = 2
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 5, 10, 14, 15, 29
_MAX_PHNUM = 4096
_MAX_DYN = 1 << 16  # dynamic entries read at most
_MAX_STR = 1 << 16  # bytes of one string


@dataclass(frozen=True)
class ElfInfo:
    elf_class: int  # 1: 32-bit, 2: 64-bit
    machine: int  # e_machine (62: x86-64)
    type: int  # e_type (2: executable, 3: shared object or PIE)
    needed: list[str] = field(default_factory=list)
    soname: str | None = None
    rpath: list[str] = field(default_factory=list)  # DT_RPATH, split at ':'
    runpath: list[str] = field(default_factory=list)  # DT_RUNPATH, split at ':'
    interpreter: str | None = None
    python_module: bool = False  # its dynamic strings name a PyInit_ function: a CPython extension module

    @property
    def loadable_here(self) -> bool:
        """An x86-64 executable or shared object (what the image's dynamic linker loads)."""
        return self.elf_class == ELFCLASS64 and self.machine == EM_X86_64 and self.type in (ET_EXEC, ET_DYN)

    def to_json(self) -> list:
        return [self.elf_class, self.machine, self.type, self.needed, self.soname, self.rpath, self.runpath,
                self.interpreter, self.python_module]

    @classmethod
    def from_json(cls, data: list) -> ElfInfo:
        c, m, t, needed, soname, rpath, runpath, interp, module = data
        return cls(int(c), int(m), int(t), list(needed), soname, list(rpath), list(runpath), interp, bool(module))


def is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == ELF_MAGIC
    except OSError:
        return False


def _cstring(f, size: int, offset: int) -> str | None:
    if offset < 0 or offset >= size:
        return None
    f.seek(offset)
    data = f.read(min(_MAX_STR, size - offset))
    end = data.find(b"\0")
    if end < 0:
        return None
    return data[:end].decode("utf-8", "surrogateescape")


def read_elf(path: str) -> ElfInfo | None:
    """The dynamic-linking facts of an ELF file, or None when it is not one (or is malformed)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            return _read(f, size)
    except (OSError, struct.error):
        return None


def _read(f, size: int) -> ElfInfo | None:
    ident = f.read(16)
    if len(ident) < 16 or ident[:4] != ELF_MAGIC or ident[4] not in (1, 2) or ident[5] not in (1, 2):
        return None
    is64 = ident[4] == 2
    end = "<" if ident[5] == 1 else ">"
    if is64:
        hdr = f.read(48)
        if len(hdr) < 48:
            return None
        e_type, e_machine, _ver, _entry, phoff, shoff, _flags, _ehsize, phentsize, phnum, _shentsize, _shnum, \
            _shstrndx = struct.unpack(end + "HHIQQQIHHHHHH", hdr)
        ph_fmt, ph_size = end + "IIQQQQQQ", 56
        dyn_fmt, dyn_size = end + "qQ", 16
    else:
        hdr = f.read(36)
        if len(hdr) < 36:
            return None
        e_type, e_machine, _ver, _entry, phoff, shoff, _flags, _ehsize, phentsize, phnum, _shentsize, _shnum, \
            _shstrndx = struct.unpack(end + "HHIIIIIHHHHHH", hdr)
        ph_fmt, ph_size = end + "IIIIIIII", 32
        dyn_fmt, dyn_size = end + "iI", 8
    if phnum == 0xFFFF and shoff:  # PN_XNUM: the real count is section 0's sh_info
        sh_info_at = shoff + (44 if is64 else 28)
        if sh_info_at + 4 > size:
            return None
        f.seek(sh_info_at)
        (phnum,) = struct.unpack(end + "I", f.read(4))
    if phoff == 0 or phnum == 0:
        return ElfInfo(ident[4], e_machine, e_type)
    if phentsize < ph_size or phnum > _MAX_PHNUM or phoff + phnum * phentsize > size:
        return None
    loads: list[tuple[int, int, int]] = []  # (vaddr, filesz, offset)
    dynamic: tuple[int, int] | None = None
    interp: str | None = None
    for i in range(phnum):
        f.seek(phoff + i * phentsize)
        raw = f.read(ph_size)
        if is64:
            p_type, _pflags, p_offset, p_vaddr, _paddr, p_filesz, _memsz, _align = struct.unpack(ph_fmt, raw)
        else:
            p_type, p_offset, p_vaddr, _paddr, p_filesz, _memsz, _pflags, _align = struct.unpack(ph_fmt, raw)
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_filesz, p_offset))
        elif p_type == PT_DYNAMIC and dynamic is None:
            dynamic = (p_offset, p_filesz)
        elif p_type == PT_INTERP and interp is None and p_offset + p_filesz <= size:
            interp = _cstring(f, min(size, p_offset + p_filesz), p_offset)
    if dynamic is None:
        return ElfInfo(ident[4], e_machine, e_type, interpreter=interp)
    d_off, d_size = dynamic
    if d_off + d_size > size:
        return None
    f.seek(d_off)
    count = min(d_size // dyn_size, _MAX_DYN)
    raw = f.read(count * dyn_size)
    tags: list[tuple[int, int]] = []
    for i in range(count):
        tag, val = struct.unpack_from(dyn_fmt, raw, i * dyn_size)
        if tag == DT_NULL:
            break
        tags.append((tag, val))
    strtab = next((v for t, v in tags if t == DT_STRTAB), None)
    strsz = next((v for t, v in tags if t == DT_STRSZ), None)
    if strtab is None:
        return ElfInfo(ident[4], e_machine, e_type, interpreter=interp)
    base = next((off + strtab - va for va, fsz, off in loads if va <= strtab < va + fsz), None)
    if base is None or base >= size:
        return None
    limit = min(size, base + strsz) if strsz else size

    def string(index: int) -> str | None:
        return _cstring(f, limit, base + index)

    needed, soname, rpath, runpath = [], None, [], []
    for tag, val in tags:
        if tag not in (DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH):
            continue
        text = string(val)
        if text is None:
            return None
        if tag == DT_NEEDED:
            needed.append(text)
        elif tag == DT_SONAME:
            soname = text
        elif tag == DT_RPATH:
            rpath += [p for p in text.split(":") if p]
        else:
            runpath += [p for p in text.split(":") if p]
    return ElfInfo(ident[4], e_machine, e_type, needed, soname, rpath, runpath, interp,
                   _mentions(f, base, limit, b"\0PyInit_"))


def _mentions(f, start: int, end: int, needle: bytes) -> bool:
    """Whether bytes start..end of f contain needle (read in chunks: libtorch's strings are tens of MB)."""
    chunk = 1 << 22
    pos = start
    tail = b""
    while pos < end:
        f.seek(pos)
        data = tail + f.read(min(chunk, end - pos))
        if needle in data:
            return True
        tail = data[-len(needle):]
        pos += chunk
    return False


# --- /etc/ld.so.cache ----------------------------------------------------------------------------------------------

_NEW_MAGIC = b"glibc-ld.so.cache1.1"
_OLD_MAGIC = b"ld.so-1.7.0"
FLAG_X8664_LIB64 = 0x0303  # FLAG_ELF_LIBC6 | FLAG_X8664_LIB64


def read_ld_cache(data: bytes) -> dict[str, str]:
    """soname -> path of the x86-64 libraries in an ld.so.cache (glibc's new format, alone or after the old one);
    the first entry of a name wins, as in the dynamic linker's lookup. {} for anything else."""
    start = 0
    if data.startswith(_OLD_MAGIC):
        (nlibs,) = struct.unpack_from("<I", data, 12) if len(data) >= 16 else (0,)
        start = 16 + nlibs * 12
        start = (start + 7) & ~7  # the new header follows, aligned
        if data[start:start + len(_NEW_MAGIC)] != _NEW_MAGIC:
            at = data.find(_NEW_MAGIC, 16)
            start = at if at >= 0 else len(data)
    if data[start:start + len(_NEW_MAGIC)] != _NEW_MAGIC or len(data) < start + 48:
        return {}
    nlibs, _len_strings = struct.unpack_from("<II", data, start + 20)
    out: dict[str, str] = {}
    entries = start + 48
    if entries + nlibs * 24 > len(data):
        return {}

    def string(offset: int) -> str | None:
        at = start + offset
        if not 0 <= at < len(data):
            return None
        stop = data.find(b"\0", at)
        return data[at:stop].decode("utf-8", "surrogateescape") if stop >= 0 else None

    for i in range(nlibs):
        flags, key, value, _osversion, _hwcap = struct.unpack_from("<iIIIQ", data, entries + i * 24)
        if flags != FLAG_X8664_LIB64:
            continue
        name, path = string(key), string(value)
        if name and path:
            out.setdefault(name, path)
    return out
