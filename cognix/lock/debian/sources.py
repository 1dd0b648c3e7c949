"""Find the mirror URIs serving a suite family: from the machine's apt configuration, or from user options.

A family is the release suite plus `<suite>-updates` and `<suite>-security` (security usually lives at another URI).
Only `deb` entries over http(s) with component `main` count; file:, cdrom: and other machine-local sources would leak
into the lock, so they are ignored. No host is written here: every URI comes from apt or from the caller.

Options (`mirror`, `security_mirror`): when `mirror` is given it is the base for the release and updates suites and
the apt configuration is not read; `security_mirror` adds the security suite (without it, no security suite is used).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from debian import deb822

from cognix.errors import LockError

SUFFIXES = ("", "-updates", "-security")  # the order suites are consulted in (ties in version go to the first)
COMPONENT = "main"
# Debian release codenames, to tell a Debian archive entry from a third-party one when deriving a suite.
DEBIAN_CODENAMES = ("buster", "bullseye", "bookworm", "trixie", "forky", "duke")


@dataclass(frozen=True)
class AptSource:
    """One suite at one mirror base URI (no trailing slash)."""

    uri: str
    suite: str
    signed_by: str | None = None  # keyring path from apt's Signed-By, when given


def _family_and_suffix(suite: str) -> tuple[str, str]:
    for suffix in SUFFIXES[1:]:
        if suite.endswith(suffix):
            return suite[: -len(suffix)], suffix
    return suite, ""


def _usable(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def _one_line(text: str) -> list[AptSource]:
    """sources.list one-line format: `deb [opt=val ...] URI SUITE COMPONENT...`."""
    out: list[AptSource] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        options: dict[str, str] = {}
        m = re.match(r"^(\S+)\s+\[([^\]]*)\]\s+(.*)$", line)
        if m:
            kind, opts, rest = m.group(1), m.group(2), m.group(3)
            for item in opts.split():
                key, _, value = item.partition("=")
                options[key.lower()] = value
        else:
            kind, _, rest = line.partition(" ")
        fields = rest.split()
        if kind != "deb" or len(fields) < 3:
            continue
        uri, suite, components = fields[0], fields[1], fields[2:]
        if COMPONENT in components and _usable(uri):
            out.append(AptSource(uri.rstrip("/"), suite, options.get("signed-by")))
    return out


def _deb822(text: str) -> list[AptSource]:
    """The .sources deb822 format (Types, URIs, Suites, Components, Signed-By, Enabled)."""
    out: list[AptSource] = []
    for para in deb822.Deb822.iter_paragraphs(text.splitlines()):
        if para.get("Enabled", "yes").strip().lower() == "no":
            continue
        if "deb" not in para.get("Types", "").split():
            continue
        if COMPONENT not in para.get("Components", "").split():
            continue
        signed_by = para.get("Signed-By", "").strip()
        keyring = signed_by if signed_by and "\n" not in signed_by and signed_by.startswith("/") else None
        for uri in para.get("URIs", "").split():
            if not _usable(uri):
                continue
            for suite in para.get("Suites", "").split():
                out.append(AptSource(uri.rstrip("/"), suite, keyring))
    return out


def read_apt_sources(apt_root: Path = Path("/etc/apt")) -> list[AptSource]:
    """Every usable `deb ... main` entry of the apt configuration, in apt's reading order."""
    out: list[AptSource] = []
    main_list = apt_root / "sources.list"
    if main_list.is_file():
        out += _one_line(main_list.read_text(errors="replace"))
    parts = apt_root / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.suffix == ".list":
                out += _one_line(path.read_text(errors="replace"))
            elif path.suffix == ".sources":
                out += _deb822(path.read_text(errors="replace"))
    return out


def family_sources(
    family: str,
    *,
    mirror: str | None = None,
    security_mirror: str | None = None,
    apt_root: Path = Path("/etc/apt"),
) -> list[AptSource]:
    """Where to read `family`, `family-updates` and `family-security` from, in that order.

    From apt: each member suite apt lists is used as listed (first entry wins). A member apt does not list (say the
    machine runs bookworm and the model needs trixie) is derived from the entry apt has for the same kind of suite
    of another Debian release (`bookworm-security` at URI X -> `trixie-security` at URI X).
    """
    if mirror:
        for option, value in (("mirror", mirror), ("security_mirror", security_mirror)):
            if value and not _usable(value):
                raise LockError(f"Debian {option} {value!r} is not an http(s) URL", fix="give the mirror's base URL")
        base = mirror.rstrip("/")
        out = [AptSource(base, family), AptSource(base, f"{family}-updates")]
        if security_mirror:
            out.append(AptSource(security_mirror.rstrip("/"), f"{family}-security"))
        return out
    if security_mirror:
        raise LockError("a Debian security_mirror was given without a mirror", fix="give both, or neither")

    entries = read_apt_sources(apt_root)
    out = []
    for suffix in SUFFIXES:
        wanted = family + suffix
        exact = next((e for e in entries if e.suite == wanted), None)
        if exact is None:
            # Same kind of suite of another Debian release (not "stable", "nodistro", third-party suites...).
            alike = next(
                (e for e in entries if _family_and_suffix(e.suite) in {(c, suffix) for c in DEBIAN_CODENAMES}),
                None,
            )
            exact = AptSource(alike.uri, wanted, alike.signed_by) if alike else None
        if exact is not None:
            out.append(exact)
    if not out or out[0].suite != family:
        raise LockError(
            f"no Debian mirror for suite {family!r} in the apt configuration ({apt_root}/sources.list, "
            f"{apt_root}/sources.list.d)",
            fix="add the suite to apt's sources, or pass a Debian mirror base URL (and a security mirror) as options",
        )
    return out

