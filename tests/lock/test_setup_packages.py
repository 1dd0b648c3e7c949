"""libc-bin (the image's ldconfig) is locked as a build-only deb in every lock, sdists or not, never in the image."""

from __future__ import annotations

from cognix.engines.native.entries import setup_debs
from cognix.lock.debian import SETUP_PACKAGES, build_packages, setup_only
from cognix.lock.model import Deb, Lock
from cognix.lock.target import make_target


def _deb(name: str) -> Deb:
    return Deb(package=name, version="1", architecture="amd64", filename=f"pool/{name}.deb",
               url=f"http://mirror/pool/{name}.deb", sha256="0" * 64, size=1, suite="bookworm",
               release_date="Sat, 01 Jan 2000 00:00:00 UTC")


def test_setup_packages_are_resolved_with_the_build_packages() -> None:
    assert SETUP_PACKAGES == ("libc-bin",)
    assert "libc-bin" in build_packages("3.11") and "libc-bin" in build_packages("3.12", standalone=True)
    assert [d.package for d in setup_only([_deb("gcc"), _deb("libc-bin"), _deb("make")])] == ["libc-bin"]


def test_setup_debs_leave_out_what_the_image_has() -> None:
    target = make_target("3.11")
    lock = Lock(input_hash="x", target=target, config={}, debs=[_deb("libc6")], build_debs=[_deb("gcc"), _deb("libc-bin")])
    assert [d.package for d in setup_debs(lock)] == ["libc-bin"]
    assert setup_debs(lock.model_copy(update={"debs": [_deb("libc6"), _deb("libc-bin")]})) == []
