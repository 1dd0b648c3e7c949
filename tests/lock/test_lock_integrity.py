"""An edited lock.json never builds: each hand edit that once passed `cognix lock --check` gets one clear error."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from cognix.cli.main import cli
from cognix.config import load_config
from cognix.errors import LockError
from cognix.lock.lockfile import load_lock, write_lock
from cognix.lock.model import Deb

from test_lockfile import make_lock, model  # noqa: F401 - the fixture

Edit = Callable[[dict], None]


def _deb(package: str, depends: list[str], filename: str | None = None) -> Deb:
    return Deb(package=package, version="1", architecture="amd64", depends=depends, sha256="cd" * 32, size=1,
               filename=filename or f"pool/main/{package[0]}/{package}/{package}_1_amd64.deb",
               url=f"https://mirror.invalid/debian/pool/main/{package}_1_amd64.deb", suite="bookworm",
               release_date="Sat, 01 Jan 2026 00:00:00 UTC")


@pytest.fixture
def locked(model: Path) -> Path:  # noqa: F811
    lock = make_lock(model)
    write_lock(model, lock.model_copy(update={"debs": [_deb("libc6", []), _deb("tini", ["libc6"])]}))
    return model


def _wheel(doc: dict, name: str) -> dict:
    return next(w for w in doc["cognix"]["wheels"] if w["name"] == name)


def _drop_wheel(doc: dict) -> None:  # the container then dies with ModuleNotFoundError
    doc["cognix"]["wheels"] = [w for w in doc["cognix"]["wheels"] if w["name"] != "idna"]


def _wheel_url(doc: dict) -> None:
    _wheel(doc, "idna")["url"] = "https://elsewhere.invalid/idna-1.0-py3-none-any.whl"


def _deb_url(doc: dict) -> None:
    doc["cognix"]["debs"][1]["url"] = "https://elsewhere.invalid/tini_1_amd64.deb"


def _duplicate_wheel(doc: dict) -> None:
    doc["cognix"]["wheels"].append(dict(_wheel(doc, "idna")))


def _drop_deb(doc: dict) -> None:
    doc["cognix"]["debs"] = [d for d in doc["cognix"]["debs"] if d["package"] != "libc6"]


def _deb_escapes(doc: dict) -> None:
    doc["cognix"]["debs"][0]["filename"] = "pool/../../../etc/passwd"


def _pip_metadata(doc: dict) -> None:  # what the Nix engine reads
    doc["fetchPipMetadata"]["sources"]["idna"]["sha256"] = "00" * 32


def _wheel_file_path(doc: dict) -> None:
    _wheel(doc, "idna")["filename"] = "../idna-1.0-py3-none-any.whl"


def _hash_removed(doc: dict) -> None:
    del doc["contentHash"]


CASES: dict[str, tuple[Edit, str]] = {
    "wheel removed": (_drop_wheel, "anyio 1.0 requires idna, which the lock does not have"),
    "wheel url changed": (_wheel_url, "fetchPipMetadata, which the Nix engine reads, differs from the cognix "
                                      "section (for idna)"),
    "deb url changed": (_deb_url, "its content changed after `cognix lock` wrote it"),
    "wheel twice": (_duplicate_wheel, "wheels locked twice: idna"),
    "deb removed": (_drop_deb, "tini 1 depends on libc6, which the lock does not have"),
    "deb path escapes": (_deb_escapes, "libc6's pool path 'pool/../../../etc/passwd' leaves the mirror's root"),
    "fetchPipMetadata edited": (_pip_metadata, "fetchPipMetadata, which the Nix engine reads, differs from the "
                                               "cognix section (for idna)"),
    "wheel file name a path": (_wheel_file_path, "idna's file name '../idna-1.0-py3-none-any.whl' is not a plain"),
    "hash removed": (_hash_removed, "it has no contentHash"),
}


def _edit(model_dir: Path, edit: Edit) -> None:
    path = model_dir / "lock.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc, sort_keys=True, indent=2) + "\n")


def test_an_untouched_lock_loads(locked: Path) -> None:
    assert load_lock(locked, load_config(locked)).debs[1].package == "tini"


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_edited_lock_is_refused(locked: Path, case: str) -> None:
    edit, expected = CASES[case]
    _edit(locked, edit)
    with pytest.raises(LockError) as info:
        load_lock(locked, load_config(locked))
    assert "lock.json is not as `cognix lock` wrote it: " in info.value.message
    assert expected in info.value.message
    assert "run `cognix lock`" in (info.value.fix or "")


@pytest.mark.parametrize("case", ["wheel removed", "deb url changed", "deb path escapes"])
def test_lock_check_says_so(locked: Path, case: str) -> None:
    _edit(locked, CASES[case][0])
    result = CliRunner().invoke(cli, ["lock", "--check", str(locked)])
    assert result.exit_code == 1, result.output
    assert CASES[case][1] in result.output and "Traceback" not in result.output
