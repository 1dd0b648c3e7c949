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


# glibc versions read from each suite's Packages index (libc6 2.36-9+deb12u*, 2.41-12+deb13u*).
SUITES: dict[str, SuiteInfo] = {
    "3.11": SuiteInfo(suite="bookworm", glibc="2.36", python_minor="3.11"),
    "3.13": SuiteInfo(suite="trixie", glibc="2.41", python_minor="3.13"),
}


def _minor(version: str) -> str:
    """'3.11.4' or '3.11' -> '3.11'."""
    parts = version.strip().split(".")
    return ".".join(parts[:2])


def suite_for_python(minor: str) -> SuiteInfo:
    """The suite whose python3.X is this Python version; accepts '3.11' or '3.11.4'."""
    info = SUITES.get(_minor(minor))
    if info is None:
        offered = ", ".join(f"{v} (Debian {i.suite})" for v, i in sorted(SUITES.items()))
        raise LockError(
            f"python_version {minor!r} is not offered by the native engine, which takes Python from Debian; "
            f"it offers {offered}",
            where="cog.yaml: build.python_version",
            fix=f"use one of {', '.join(sorted(SUITES))}, or build with the Nix engine (`cognix init`, then `nix build`), "
            "which serves other Python versions",
        )
    return info


def base_packages(minor: str) -> list[str]:
    """What every image gets besides build.system_packages; their dependency closure comes from resolution.

    python3.X (not -minimal) so the whole stdlib is there (ssl, sqlite3, ctypes, lzma, ...); tini is the image's
    entrypoint (process reaper); ca-certificates gives the CA bundle for HTTPS; netbase gives /etc/services and
    /etc/protocols (socket.getservbyname); libstdc++6 because manylinux wheels may expect it from the system
    (it is on the manylinux policy's allow-list, so auditwheel never bundles it).
    """
    info = suite_for_python(minor)
    return sorted([f"python{info.python_minor}", "tini", "ca-certificates", "netbase", "libstdc++6"])


BASE_PACKAGES = base_packages


def run_step_packages(has_run_steps: bool) -> list[str]:
    """What cog.yaml's build.run commands need on top: `/bin/sh` and the basic tools.

    Debian never lists Essential packages as dependencies, so a closure resolved from dependencies alone has no
    shell; the lock adds these whenever there are run steps.
    """
    return ["coreutils", "dash"] if has_run_steps else []
