"""Pinning python-build-standalone interpreters: uv's download list, the mirror, SHA256SUMS, clear failures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from servicekit import free_port, static_files

from cognix.errors import LockError
from cognix.lock.model import StandalonePython
from cognix.lock.standalone import choose_download, list_downloads, lock_standalone, parse_listing, parse_sums
from cognix.lock.target import make_target, python_source_for

GH = "https://example.invalid/releases/download"


def _entry(version: str, *, variant: str = "default", libc: str = "gnu", flavour: str = "install_only_stripped",
           release: str = "20261110", arch: object = "x86_64") -> dict:
    name = f"cpython-{version}%2B{release}-x86_64-unknown-linux-{libc}-{flavour}.tar.gz"
    return {"key": f"cpython-{version}-linux-x86_64-{libc}", "version": version, "url": f"{GH}/{release}/{name}",
            "os": "linux", "variant": variant, "implementation": "cpython", "arch": arch, "libc": libc}


def test_listing_keeps_linux_glibc_default_builds_in_install_only_layouts() -> None:
    text = json.dumps([
        _entry("3.12.16"),
        _entry("3.12.16", flavour="install_only"),
        _entry("3.12.16", variant="freethreaded"),
        _entry("3.12.16", libc="musl"),
        _entry("3.10.0", flavour="pgo+lto-full"),  # an old full archive: another layout
        _entry("3.12.15", arch={"family": "x86_64", "variant": None}),
        {"implementation": "pypy", "url": f"{GH}/x/pypy.tar.gz"},
    ])
    got = parse_listing(text)
    assert [(str(d.version), d.stripped, d.release) for d in got] == [
        ("3.12.16", True, "20261110"), ("3.12.16", False, "20261110"), ("3.12.15", True, "20261110")]
    assert got[0].filename == "cpython-3.12.16+20261110-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"


def test_choose_newest_final_release_and_the_stripped_archive() -> None:
    downloads = parse_listing(json.dumps([
        _entry("3.12.3", flavour="install_only"), _entry("3.12.16", flavour="install_only"), _entry("3.12.16"),
        _entry("3.13.0rc1"), _entry("3.8.20")]))
    chosen = choose_download(downloads, "3.12")
    assert (str(chosen.version), chosen.stripped) == ("3.12.16", True)
    assert str(choose_download(downloads, "3.8").version) == "3.8.20"
    with pytest.raises(LockError) as err:
        choose_download(downloads, "3.13")  # only a release candidate
    assert "no build of Python 3.13" in err.value.what and "3.8, 3.12" in err.value.what


def test_the_pinned_uv_knows_every_version_debian_does_not_ship() -> None:
    downloads = list_downloads()  # uv's own list: no network
    for minor in ("3.8", "3.10", "3.12"):
        chosen = choose_download(downloads, minor)
        assert chosen.filename.startswith(f"cpython-{minor}.") and chosen.filename.endswith(".tar.gz")


def test_mirror_rewrites_listed_urls() -> None:
    chosen = choose_download(list_downloads("http://127.0.0.1:9/pbs-mirror/"), "3.12")
    assert chosen.url.startswith("http://127.0.0.1:9/pbs-mirror/")


def test_sums_file() -> None:
    assert parse_sums(f"{'a' * 64}  x.tar.gz\n{'B' * 64} *y.tar.gz\njunk\n") == {"x.tar.gz": "a" * 64,
                                                                                 "y.tar.gz": "b" * 64}


def test_python_source_choice() -> None:
    assert python_source_for("3.11") == "debian"
    assert python_source_for("3.12") == "standalone"
    assert python_source_for("3.11", "standalone") == "standalone"
    with pytest.raises(LockError, match="not shipped by a Debian suite"):
        python_source_for("3.12", "debian")
    t = make_target("3.8", python_source="standalone")
    assert (t.abi, t.debian_suite, t.glibc) == ("cp38", "bookworm", "2.36")
    layout = t.layout()
    assert (layout.executable, layout.site_packages) == ("/usr/local/bin/python3.8",
                                                         "/usr/local/lib/python3.8/site-packages")
    assert make_target("3.9").layout().site_packages == "/usr/lib/python3/dist-packages"


@pytest.mark.parametrize("with_sums", [True, False])
def test_lock_pins_url_sha_and_size_from_a_local_mirror(tmp_path: Path, with_sums: bool) -> None:
    data = b"not really an archive, but the lock only pins bytes"
    with static_files(tmp_path) as (base, requests):
        mirror = f"{base}/pbs"
        chosen = choose_download(list_downloads(mirror), "3.12")
        (tmp_path / "pbs" / chosen.release).mkdir(parents=True)
        (tmp_path / "pbs" / chosen.release / chosen.filename).write_bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        if with_sums:
            (tmp_path / "pbs" / chosen.release / "SHA256SUMS").write_text(f"{sha}  {chosen.filename}\n")
        pinned = lock_standalone("3.12", mirror=mirror)
    assert isinstance(pinned, StandalonePython)
    assert (pinned.url, pinned.sha256, pinned.size, pinned.version) == (chosen.url, sha, len(data),
                                                                        str(chosen.version))
    assert pinned.listed_by.startswith("uv ")
    assert any(r.endswith("/SHA256SUMS") for r in requests)


def test_unreachable_mirror_names_the_url_and_the_option() -> None:
    mirror = f"http://127.0.0.1:{free_port()}/nothing-here"
    with pytest.raises(LockError) as err:
        lock_standalone("3.10", mirror=mirror)
    assert mirror in err.value.what and "--python-mirror" in (err.value.fix or "")
    assert "UV_PYTHON_INSTALL_MIRROR" in (err.value.fix or "")


def test_archive_missing_on_the_mirror(tmp_path: Path) -> None:
    with static_files(tmp_path) as (base, _requests):
        with pytest.raises(LockError) as err:
            lock_standalone("3.10", mirror=f"{base}/pbs")
    assert "cannot fetch the interpreter archive" in err.value.what and "--python-mirror" in (err.value.fix or "")
