"""Which Debian suite serves which CPython, and the packages every image needs from it."""

from __future__ import annotations

from dataclasses import dataclass

from cognix.errors import LockError


@dataclass(frozen=True)
class SuiteInfo:
    """A Debian suite family, the glibc it ships (caps manylinux tags) and its python3.X."""

    suite: str
    glibc: str
    python_minor: str


# Checked against each suite's Release and Packages files on the mirror (2026-12): python3.X and libc6 versions.
# glibc caps the manylinux tags of the image's wheels.
SUITES: dict[str, SuiteInfo] = {
    "3.9": SuiteInfo(suite="bullseye", glibc="2.31", python_minor="3.9"),  # libc6 2.31-13+deb11u*
    "3.11": SuiteInfo(suite="bookworm", glibc="2.36", python_minor="3.11"),  # libc6 2.36-9+deb12u*
    "3.13": SuiteInfo(suite="trixie", glibc="2.41", python_minor="3.13"),  # libc6 2.41-12+deb13u*
    "3.14": SuiteInfo(suite="forky", glibc="2.43", python_minor="3.14"),  # libc6 2.43-*, python3.14 3.14.8-1
}
# The system base under a python-build-standalone interpreter (its builds need glibc 2.17 or newer).
STANDALONE_BASE = SuiteInfo(suite="bookworm", glibc="2.36", python_minor="")


def _minor(version: str) -> str:
    """'3.11.4' or '3.11' -> '3.11'."""
    parts = version.strip().split(".")
    return ".".join(parts[:2])


def suite_for_python(minor: str) -> SuiteInfo:
    """The suite whose python3.X is this Python version; accepts '3.11' or '3.11.4'."""
    info = SUITES.get(_minor(minor))
    if info is None:
        raise LockError(
            f"python_version {minor!r} is not shipped by a Debian suite; Debian offers {debian_offers()}",
            where="cog.yaml: build.python_version",
            fix="let `cognix lock` take it from python-build-standalone (the default, `--python-source auto`), "
            f"or use one of {', '.join(SUITES)}",
        )
    return info


def debian_offers() -> str:
    return ", ".join(f"{v} ({i.suite})" for v, i in SUITES.items())


def base_packages(minor: str, *, standalone: bool = False) -> list[str]:
    """What every image gets besides build.system_packages; their dependency closure comes from resolution.

    python3.X (not -minimal) so the whole stdlib is there (ssl, sqlite3, ctypes, lzma, ...); tini is the image's
    entrypoint (process reaper); ca-certificates gives the CA bundle for HTTPS; netbase gives /etc/services and
    /etc/protocols (socket.getservbyname); libstdc++6 because manylinux wheels may expect it from the system
    (it is on the manylinux policy's allow-list, so auditwheel never bundles it); dash for /bin/sh, which models
    call through os.system and subprocess(shell=True) as on Cog's images. A standalone interpreter brings its own
    stdlib and libraries and needs only glibc (libc6) from the base.
    """
    common = ["tini", "ca-certificates", "netbase", "libstdc++6", "dash"]
    if standalone:
        return sorted([*common, "libc6"])
    info = suite_for_python(minor)
    return sorted([f"python{info.python_minor}", *common])


BASE_PACKAGES = base_packages

# What building a wheel from an sdist needs besides the image's own packages: a C/C++ toolchain and the shell tools
# build scripts call. Debian never lists libc6-dev as a dependency of gcc (only a Recommends), so it is named here.
TOOLCHAIN = ["bash", "coreutils", "dash", "g++", "gcc", "grep", "libc6-dev", "make", "pkg-config", "sed"]


# What the native engine runs over the assembled image at build time and never ships: the image's own ldconfig
# (libc-bin, Essential in Debian, so no package depends on it) writes /etc/ld.so.cache. Locked with the toolchain
# as build-only debs, but kept in every lock (see setup_only), sdists or not.
SETUP_PACKAGES = ("libc-bin",)


def build_packages(minor: str, *, standalone: bool = False) -> list[str]:
    """The toolchain, Debian's headers for its interpreter (a standalone one carries its own) and SETUP_PACKAGES."""
    python_dev = [] if standalone else [f"libpython{suite_for_python(minor).python_minor}-dev"]
    return sorted(set(TOOLCHAIN + list(SETUP_PACKAGES) + python_dev))


def setup_only(build_debs: list) -> list:
    """The build-only debs a lock without sdist builds keeps: those of SETUP_PACKAGES."""
    return [d for d in build_debs if d.package in SETUP_PACKAGES]


# What cog.yaml's build.run steps find in Cog's base images and get here too, in the build sandbox only (never in the
# image unless system_packages lists them): a shell and the usual tools, curl, wget, git. Debian never lists Essential
# packages as dependencies, so a closure resolved from dependencies alone has no shell: these are named.
RUN_TOOLS = ["bash", "ca-certificates", "coreutils", "curl", "dash", "findutils", "git", "grep", "gzip", "sed", "tar",
             "wget", "xz-utils"]


def build_only_packages(minor: str, *, standalone: bool = False, sdists: bool, run_steps: bool) -> list[str]:
    """What building needs that the image doesn't: the toolchain for sdists, the tools for build.run (which gets the
    toolchain too: a `pip install` in a step may build an sdist, as on Cog's images)."""
    if not (sdists or run_steps):
        return []
    return sorted(set(build_packages(minor, standalone=standalone)) | (set(RUN_TOOLS) if run_steps else set()))
