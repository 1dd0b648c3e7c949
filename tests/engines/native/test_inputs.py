"""Vanished .debs: snapshot archive URLs from the lock's Release date, and the error when nothing has it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from servicekit import static_files

from cognix.engines.native.entries import fetch_deb, snapshot_timestamp, snapshot_urls
from cognix.errors import StoreError
from cognix.lock.model import Deb
from cognix.progress import Silent

POOL = "pool/main/h/hello/hello_2.10-3_amd64.deb"
DATA = b"!<arch>\nnot really a deb, but its bytes are what the lock pinned\n"


def _deb(base: str, archive: str = "debian") -> Deb:
    return Deb(package="hello", version="2.10-3", architecture="amd64", filename=POOL,
               url=f"{base}/{archive}/{POOL}", sha256=hashlib.sha256(DATA).hexdigest(), size=len(DATA),
               suite="bookworm", release_date="Sat, 07 Oct 2023 09:24:51 UTC")


@pytest.fixture()
def server(tmp_path: Path):
    root = tmp_path / "www"
    root.mkdir()
    with static_files(root) as (base, requests):
        yield root, base, requests


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))


def test_snapshot_timestamp_from_release_date() -> None:
    assert snapshot_timestamp("Sat, 07 Oct 2023 09:24:51 UTC") == "20231007T092451Z"
    assert snapshot_timestamp("Sat, 07 Oct 2023 11:24:51 +0200") == "20231007T092451Z"


def test_snapshot_urls_follow_the_debs_archive() -> None:
    deb = _deb("http://127.0.0.1:1", archive="debian-security")
    assert snapshot_urls("http://127.0.0.1:2/archive/debian/", deb) == [
        f"http://127.0.0.1:2/archive/debian-security/20231007T092451Z/{POOL}",
        f"http://127.0.0.1:2/archive/debian-security/20231008T092451Z/{POOL}",
    ]
    assert snapshot_urls("http://127.0.0.1:2/snap", _deb("http://127.0.0.1:1"))[0] == \
        f"http://127.0.0.1:2/snap/20231007T092451Z/{POOL}"


def test_gone_deb_is_fetched_from_the_snapshot(server) -> None:
    root, base, requests = server
    snap = root / "archive" / "debian" / "20231007T092451Z" / POOL
    snap.parent.mkdir(parents=True)
    snap.write_bytes(DATA)
    deb = _deb(f"{base}/mirror")  # the "mirror" has nothing: 404
    with httpx.Client() as client:
        path = fetch_deb(deb, offline=False, snapshot_url=f"{base}/archive/debian", progress=Silent(), client=client)
    assert path.read_bytes() == DATA
    assert requests == [f"/mirror/debian/{POOL}", f"/archive/debian/20231007T092451Z/{POOL}"]


def test_gone_deb_without_snapshot_names_the_package_and_the_ways_out(server) -> None:
    _root, base, _requests = server
    with httpx.Client() as client, pytest.raises(StoreError) as err:
        fetch_deb(_deb(f"{base}/mirror"), offline=False, snapshot_url=None, progress=Silent(), client=client)
    message = err.value.message
    assert "hello 2.10-3 (amd64) is gone from the mirror" in message
    assert "--snapshot-url" in message and "import-inputs" in message and "Sat, 07 Oct 2023" in message
    with httpx.Client() as client, pytest.raises(StoreError, match="and from the snapshot archive"):
        fetch_deb(_deb(f"{base}/mirror"), offline=False, snapshot_url=f"{base}/archive/debian", progress=Silent(),
                  client=client)
