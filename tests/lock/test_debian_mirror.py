"""Against the machine's configured Debian mirror (from apt): the real bookworm base resolves."""

from __future__ import annotations

import shutil

import pytest

from cognix.errors import LockError
from cognix.lock.debian import base_packages, read_apt_sources, resolve_debs

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module", autouse=True)
def own_cache(tmp_path_factory):
    """Indexes go to a fresh cache, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COGNIX_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def bookworm(own_cache):
    if not any(s.suite == "bookworm" for s in read_apt_sources()):
        pytest.skip("apt lists no bookworm mirror on this machine")
    return resolve_debs("bookworm", base_packages("3.11") + ["libgomp1"])


def test_bookworm_base(bookworm):
    debs = {d.package: d for d in bookworm.debs}
    for name in ("python3.11", "python3.11-minimal", "libpython3.11-stdlib", "libc6", "tini", "ca-certificates",
                 "libssl3", "libgomp1", "media-types"):
        assert name in debs, name
    py = debs["python3.11"]
    assert py.version.startswith("3.11.")
    assert py.suite in bookworm.release_dates and py.release_date == bookworm.release_dates[py.suite]
    assert py.url.endswith("/" + py.filename)
    assert py.filename.startswith(("pool/main/p/python3.11/", "pool/updates/main/p/python3.11/"))  # security: updates/
    assert "bookworm" in bookworm.release_dates and bookworm.mirror.startswith("http")
    assert not {"dpkg", "debconf", "systemd", "perl"} & set(debs)
    total = sum(d.size for d in bookworm.debs)
    assert 8_000_000 < total < 25_000_000, total
    assert all(len(d.sha256) == 64 for d in bookworm.debs)


def test_newest_python_wins(bookworm):
    """python3.11 comes from whichever suite has the newest version (the security suite, usually)."""
    from debian.debian_support import version_compare

    from cognix.lock.debian.index import DEFAULT_KEYRING, fetch_packages, fetch_release
    from cognix.lock.debian.sources import family_sources

    newest = None
    for source in family_sources("bookworm"):
        release = fetch_release(source)
        if shutil.which("gpgv") and DEFAULT_KEYRING.is_file():
            assert release.signed, source  # the real archive's InRelease verifies
        for rec in fetch_packages(release):
            if rec["Package"] == "python3.11" and (newest is None or version_compare(rec["Version"], newest) > 0):
                newest = rec["Version"]
    assert {d.package: d.version for d in bookworm.debs}["python3.11"] == newest


def test_typo_gets_did_you_mean():
    if not any(s.suite == "bookworm" for s in read_apt_sources()):
        pytest.skip("apt lists no bookworm mirror on this machine")
    with pytest.raises(LockError, match="did you mean 'ffmpeg'"):
        resolve_debs("bookworm", ["ffmpg"])
