"""A python-build-standalone mirror for tests, serving an archive in that project's install_only layout.

python-build-standalone's real downloads are not reachable from the machines these tests run on, so the archive
is assembled from Debian's python3.11 (bookworm, fetched from the machine's Debian mirror): `python/bin`,
`python/lib/python3.11` with a `_sysconfigdata_` module naming the build machine's `/install` prefix and clang (as
the real builds do), `python/include/python3.11`, `python/lib/pkgconfig`. Debian's site module is switched from
dist-packages to site-packages (a sitecustomize module), as a plain CPython build has it. Debian's interpreter links a few system libraries
the real builds carry inside; models using this archive list those in `system_packages` (FIXTURE_LIBS).
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from servicekit import static_files

from cognix.lock.debian import resolve_debs
from cognix.lock.standalone import choose_download, list_downloads
from cognix.store import cache
from cognix.store.deb import unpack_deb

MINOR = "3.11"
PACKAGES = ("python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib", "libpython3.11-dev")
# What Debian's python3.11 and its extension modules link that python-build-standalone builds carry themselves.
FIXTURE_LIBS = ["libexpat1", "zlib1g", "libssl3", "libffi8", "libbz2-1.0", "liblzma5", "libuuid1", "libsqlite3-0"]


def _unpack_python_debs(staging: Path) -> None:
    resolution = resolve_debs("bookworm", list(PACKAGES))
    for deb in resolution.debs:
        if deb.package in PACKAGES:
            unpack_deb(cache.fetch(deb.url, deb.sha256, deb.size, deb.filename), staging)


def _as_built_elsewhere(value: object) -> object:
    """Debian's sysconfig values as a python-build-standalone build has them: /install prefix, clang."""
    if not isinstance(value, str):
        return value
    words = ["/install" + w[len("/usr"):] if w == "/usr" or w.startswith("/usr/") else w for w in value.split()]
    if words and words[0].endswith("-gcc"):
        words[0] = "clang"
    elif words and words[0].endswith("-g++"):
        words[0] = "clang++"
    return " ".join(words)


def _sysconfigdata(staging: Path, lib: Path) -> None:
    text = (staging / "usr/lib/python3.11/_sysconfigdata__x86_64-linux-gnu.py").read_text()
    data = ast.literal_eval(text.split("build_time_vars = ", 1)[1].strip())
    data = {k: _as_built_elsewhere(v) for k, v in data.items()}
    for name in ("_sysconfigdata__x86_64-linux-gnu.py", "_sysconfigdata__linux_x86_64-linux-gnu.py"):
        (lib / name).unlink(missing_ok=True)
    (lib / "_sysconfigdata__linux_x86_64-linux-gnu.py").write_text(f"build_time_vars = {data!r}\n")
    (lib / "_sysconfigdata__x86_64-linux-gnu.py").symlink_to("_sysconfigdata__linux_x86_64-linux-gnu.py")


def _site_packages(lib: Path) -> None:
    """Debian's site module (frozen into its interpreter) knows only dist-packages; CPython's own adds
    <prefix>/lib/python3.X/site-packages. sitecustomize (imported by site, never frozen) adds it here."""
    (lib / "sitecustomize.py").write_text(
        "import os, site, sys\n"
        "site.addsitedir(os.path.join(sys.prefix, 'lib', 'python%d.%d' % sys.version_info[:2], 'site-packages'))\n")


def assemble(work: Path) -> bytes:
    """The install_only-layout archive (tar.gz bytes) of Debian's python3.11."""
    staging, root = work / "staging", work / "root" / "python"
    _unpack_python_debs(staging)
    (root / "bin").mkdir(parents=True)
    shutil.copy2(staging / "usr/bin/python3.11", root / "bin/python3.11")
    (root / "bin/python3").symlink_to("python3.11")
    lib = root / "lib/python3.11"
    shutil.copytree(staging / "usr/lib/python3.11", lib, symlinks=True,
                    ignore=shutil.ignore_patterns("config-3.11-*", "test", "__pycache__", "sitecustomize.py"))
    _sysconfigdata(staging, lib)
    _site_packages(lib)
    include = root / "include/python3.11"
    shutil.copytree(staging / "usr/include/python3.11", include)
    shutil.copy2(staging / "usr/include/x86_64-linux-gnu/python3.11/pyconfig.h", include / "pyconfig.h")
    (root / "lib/pkgconfig").mkdir()
    (root / "lib/pkgconfig/python-3.11.pc").write_text(
        "prefix=/install\nexec_prefix=${prefix}\nlibdir=${exec_prefix}/lib\nincludedir=${prefix}/include\n\n"
        "Name: Python\nDescription: Build a C extension for Python\nVersion: 3.11\nLibs:\n"
        "Cflags: -I${includedir}/python3.11\n")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(root, arcname="python")
    return buf.getvalue()


# --- from a local CPython build (pyenv's), for the versions Debian does not ship -----------------------------------

_GLIBC = ("libc.so", "libm.so", "libpthread.so", "libdl.so", "librt.so", "libresolv.so", "libutil.so",
          "ld-linux-x86-64.so", "linux-vdso.so")
_SKIP = ("test", "tests", "idlelib", "tkinter", "turtledemo", "__pycache__", "_tkinter*", "*.a", "*.pyc")


def local_cpython(minor: str) -> Path | None:
    """A CPython `minor` installed under a prefix on this machine (pyenv's builds), or None."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = sorted((p for p in root.glob(f"{minor}.*") if (p / "bin" / f"python{minor}").is_file()
                    and re.fullmatch(rf"{re.escape(minor)}\.\d+", p.name)),
                   key=lambda p: int(p.name.rsplit(".", 1)[1]))
    return found[-1] if found and shutil.which("patchelf") else None


def _needed_libs(files: list[Path], prefix: Path) -> dict[str, Path]:
    """soname -> host file of every shared library these ELF files load from outside the prefix, glibc aside."""
    out: dict[str, Path] = {}
    for f in files:
        text = subprocess.run(["ldd", str(f)], capture_output=True, text=True, check=False).stdout
        for line in text.splitlines():
            match = re.match(r"\s*(\S+) => (/\S+)", line)
            if match and not match.group(1).startswith(_GLIBC) and not match.group(2).startswith(str(prefix)):
                out[match.group(1)] = Path(match.group(2)).resolve()
    return out


def assemble_from_prefix(prefix: Path, minor: str, work: Path) -> bytes:
    """An install_only archive of the CPython at `prefix`, made self-contained as python-build-standalone's are:
    the shared libraries its modules load copied into python/lib, every ELF file's RUNPATH relative ($ORIGIN),
    the build prefix written `/install` in sysconfig and pkg-config data."""
    root = work / f"root-{minor}" / "python"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(prefix / "bin" / f"python{minor}", root / "bin" / f"python{minor}")
    (root / "bin" / "python3").symlink_to(f"python{minor}")
    shutil.copytree(prefix / "lib", root / "lib", symlinks=True, ignore=shutil.ignore_patterns(*_SKIP))
    shutil.copytree(prefix / "include", root / "include", symlinks=True)
    lib = root / "lib"
    modules = sorted((lib / f"python{minor}" / "lib-dynload").glob("*.so"))
    libpython = [p for p in lib.glob(f"libpython{minor}*.so*") if not p.is_symlink()]
    for soname, host in _needed_libs([root / "bin" / f"python{minor}", *modules, *libpython], prefix).items():
        shutil.copy2(host, lib / soname)
        os.chmod(lib / soname, 0o755)
        libpython.append(lib / soname)
    for elf, rpath in [(root / "bin" / f"python{minor}", "$ORIGIN/../lib"), *((m, "$ORIGIN/../..") for m in modules),
                       *((p, "$ORIGIN") for p in libpython)]:
        subprocess.run(["patchelf", "--set-rpath", rpath, str(elf)], check=True, capture_output=True)
    for path in [*lib.glob(f"python{minor}/_sysconfigdata_*.py"), *lib.glob("pkgconfig/*.pc")]:
        if not path.is_symlink():
            path.write_text(path.read_text().replace(str(prefix), "/install"))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        tar.add(root, arcname="python")
    return buf.getvalue()


def archive_for(minor: str, work: Path) -> bytes | None:
    """An install_only archive of CPython `minor` that really is that version, or None when none can be made here."""
    if (prefix := local_cpython(minor)) is not None:
        return assemble_from_prefix(prefix, minor, work)
    return assemble(work) if minor == MINOR else None


def placeholder() -> bytes:
    """Bytes to pin when no real build of a version can be made here: enough for a lock, never for a build."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("python")
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    return buf.getvalue()


@dataclass(frozen=True)
class Mirror:
    url: str  # what --python-mirror / UV_PYTHON_INSTALL_MIRROR takes
    filenames: dict[str, str]  # minor -> archive name
    sha256: dict[str, str]
    requests: list[str]

    @property
    def filename(self) -> str:
        return self.filenames[MINOR]


@contextlib.contextmanager
def standalone_mirror(work: Path, archives: dict[str, bytes], *, sums: bool = True) -> Iterator[Mirror]:
    """Serve each minor's archive where uv's download list, with this mirror applied, puts its newest build."""
    www = work / "www"
    www.mkdir(parents=True, exist_ok=True)
    with static_files(www) as (base, requests):
        url = f"{base}/pbs"
        downloads = list_downloads(url)
        names, shas = {}, {}
        for minor, archive in archives.items():
            chosen = choose_download(downloads, minor)
            release_dir = www / "pbs" / chosen.release
            release_dir.mkdir(parents=True, exist_ok=True)
            (release_dir / chosen.filename).write_bytes(archive)
            names[minor], shas[minor] = chosen.filename, hashlib.sha256(archive).hexdigest()
            if sums:
                with open(release_dir / "SHA256SUMS", "a") as f:
                    f.write(f"{shas[minor]}  {chosen.filename}\n")
        yield Mirror(url, names, shas, requests)
