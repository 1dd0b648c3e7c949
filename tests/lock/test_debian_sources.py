"""Mirror discovery from apt configuration, suite per Python version, base packages."""

from __future__ import annotations

import pytest

from cognix.errors import LockError
from cognix.lock.debian import AptSource, base_packages, family_sources, read_apt_sources, suite_for_python

# Local-only URIs: tests never name a real mirror.
A, S = "http://127.0.0.1:9/debian", "http://127.0.0.1:9/debian-security"


def apt_root(tmp_path, sources_list: str = "", parts: dict[str, str] | None = None):
    root = tmp_path / "apt"
    (root / "sources.list.d").mkdir(parents=True)
    (root / "sources.list").write_text(sources_list)
    for name, text in (parts or {}).items():
        (root / "sources.list.d" / name).write_text(text)
    return root


DEB822 = f"""# a comment
Types: deb deb-src
# URIs: http://127.0.0.1:9/commented
URIs: {A}/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: {S}
Suites: bookworm-security
Components: main

Types: deb
Enabled: no
URIs: http://127.0.0.1:9/disabled
Suites: bookworm
Components: main
"""


def test_deb822_sources(tmp_path):
    root = apt_root(tmp_path, parts={"debian.sources": DEB822, "x.sources.disabled": DEB822.replace(A, "http://no")})
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    assert read_apt_sources(root) == [
        AptSource(A, "bookworm", keyring),
        AptSource(A, "bookworm-updates", keyring),
        AptSource(S, "bookworm-security", None),
    ]
    assert [(s.uri, s.suite) for s in family_sources("bookworm", apt_root=root)] == [
        (A, "bookworm"), (A, "bookworm-updates"), (S, "bookworm-security"),
    ]


def test_one_line_sources(tmp_path):
    text = f"""
# deb {A} bookworm main
deb-src {A} bookworm main
deb file:///srv/local bookworm main
deb [arch=amd64 signed-by=/k.gpg] {A} bookworm main non-free-firmware  # trailing comment
deb {A} bookworm-updates contrib
deb {S} bookworm-security main
"""
    root = apt_root(tmp_path, text, {"extra.list": f"deb {A}/ bookworm-updates main\n"})
    assert read_apt_sources(root) == [
        AptSource(A, "bookworm", "/k.gpg"),
        AptSource(S, "bookworm-security", None),
        AptSource(A, "bookworm-updates", None),
    ]
    suites = [s.suite for s in family_sources("bookworm", apt_root=root)]
    assert suites == ["bookworm", "bookworm-updates", "bookworm-security"]


def test_other_release_is_derived_from_the_debian_entries(tmp_path):
    root = apt_root(tmp_path, parts={
        "third.list": "deb http://127.0.0.1:9/vendor nodistro main\n",
        "debian.sources": DEB822,
    })
    assert [(s.uri, s.suite) for s in family_sources("trixie", apt_root=root)] == [
        (A, "trixie"), (A, "trixie-updates"), (S, "trixie-security"),
    ]


def test_no_source_for_the_suite(tmp_path):
    root = apt_root(tmp_path, "deb http://127.0.0.1:9/vendor nodistro main\n")
    with pytest.raises(LockError, match="no Debian mirror for suite 'bookworm'"):
        family_sources("bookworm", apt_root=root)


def test_mirror_options_override_apt(tmp_path):
    root = apt_root(tmp_path, parts={"debian.sources": DEB822})
    got = family_sources("bookworm", mirror="http://127.0.0.1:8/m/", security_mirror="http://127.0.0.1:8/s", apt_root=root)
    assert [(s.uri, s.suite) for s in got] == [
        ("http://127.0.0.1:8/m", "bookworm"),
        ("http://127.0.0.1:8/m", "bookworm-updates"),
        ("http://127.0.0.1:8/s", "bookworm-security"),
    ]
    assert [s.suite for s in family_sources("bookworm", mirror="http://127.0.0.1:8/m", apt_root=root)] == [
        "bookworm", "bookworm-updates",
    ]
    with pytest.raises(LockError, match="not an http"):
        family_sources("bookworm", mirror="file:///srv/mirror")
    with pytest.raises(LockError, match="without a mirror"):
        family_sources("bookworm", security_mirror="http://127.0.0.1:8/s", apt_root=root)


def test_suite_for_python():
    info = suite_for_python("3.11")
    assert (info.suite, info.glibc, info.python_minor) == ("bookworm", "2.36", "3.11")
    assert suite_for_python("3.11.4") == info
    assert (suite_for_python("3.13").suite, suite_for_python("3.13").glibc) == ("trixie", "2.41")
    assert (suite_for_python("3.9").suite, suite_for_python("3.9").glibc) == ("bullseye", "2.31")
    assert (suite_for_python("3.14").suite, suite_for_python("3.14").glibc) == ("forky", "2.43")
    with pytest.raises(LockError) as err:
        suite_for_python("3.12")
    text = str(err.value)
    assert "3.9 (bullseye), 3.11 (bookworm), 3.13 (trixie), 3.14 (forky)" in text
    assert "python-build-standalone" in text


def test_base_packages():
    assert base_packages("3.11") == ["ca-certificates", "dash", "libstdc++6", "netbase", "python3.11", "tini"]
    assert base_packages("3.12", standalone=True) == ["ca-certificates", "dash", "libc6", "libstdc++6", "netbase", "tini"]
    assert "python3.13" in base_packages("3.13")
    with pytest.raises(LockError):
        base_packages("2.7")
