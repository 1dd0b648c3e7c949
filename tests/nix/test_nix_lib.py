"""nix/lib's own logic, evaluated by nix-instantiate with nixpkgs functions stubbed (nix/tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nixeval import REPO, needs_nix, nix, nix_eval, nix_eval_error

pytestmark = needs_nix


def _nix_files() -> list[Path]:
    files = [REPO / "flake.nix"]
    for top in ("nix", "examples"):
        files += sorted((REPO / top).rglob("*.nix"))
    return files


@pytest.mark.parametrize("path", _nix_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_nix_file_parses(path: Path, tmp_path: Path) -> None:
    nix(["--parse", str(path)], tmp_path)


def test_pure_suite_passes(tmp_path: Path) -> None:
    result = nix_eval("nix/tests", tmp_path, is_file=True)
    assert result["failed"] == []
    assert result["count"] >= 50


def test_suite_reports_a_wrong_expectation(tmp_path: Path) -> None:
    """The runner is not vacuous: a case whose expectation is wrong shows up in `failed`."""
    expr = '(import ./nix/tests/lib.nix).case "wrong" "1970-01-01T00:00:00Z" ((import ./nix/lib/source-date.nix).rfc3339 1)'
    case = nix_eval(expr, tmp_path)
    assert case["ok"] is False
    assert case["actual"] == "1970-01-01T00:00:01Z"


def test_unknown_system_package_names_it_and_the_fix(tmp_path: Path) -> None:
    err = nix_eval_error('import ./nix/lib/system-packages.nix { pkgs = { }; } [ "libfoo9" ]', tmp_path)
    assert "system package `libfoo9`" in err
    assert "nix/lib/debian-packages.nix" in err
    assert 'cognix.systemPackages."libfoo9" = pkgs.<attribute>;' in err


def test_missing_nixpkgs_attribute_names_it(tmp_path: Path) -> None:
    err = nix_eval_error('import ./nix/lib/system-packages.nix { pkgs = { }; } [ "libsm6" ]', tmp_path)
    assert "`xorg.libSM`" in err and "libsm6" in err


def test_missing_lock_says_which_cognix_lock_to_run(tmp_path: Path) -> None:
    err = nix_eval_error(
        '(import ./nix/lib { pkgs = { }; dream2nix = null; cognixSrc = null; }).readLock ./examples/hello/no-such "examples/torch-demo"',
        tmp_path,
    )
    assert "examples/torch-demo/lock.json is missing: run `cognix lock examples/torch-demo`" in err


def test_debian_table_values_are_attribute_paths(tmp_path: Path) -> None:
    table = nix_eval("import ./nix/lib/debian-packages.nix", tmp_path)
    assert table["ffmpeg"] == ["ffmpeg"]
    assert table["libgl1"] == ["libGL"]
    assert table["libglib2.0-0"] == ["glib"]
    assert table["libsm6"] == ["xorg.libSM"]


def test_flake_lock_matches_flake_inputs() -> None:
    lock = json.loads((REPO / "flake.lock").read_text())
    assert lock["version"] == 7 and lock["root"] == "root"
    nodes = lock["nodes"]
    assert nodes["root"]["inputs"] == {"dream2nix": "dream2nix", "nixpkgs": "nixpkgs"}
    # flake.nix: dream2nix.inputs.nixpkgs.follows = "nixpkgs"
    assert nodes["dream2nix"]["inputs"]["nixpkgs"] == ["nixpkgs"]
    assert nodes["nixpkgs"]["original"] == {"owner": "NixOS", "ref": "nixpkgs-unstable", "repo": "nixpkgs", "type": "github"}
    assert nodes["dream2nix"]["locked"]["rev"] == "4d441820e0d0916c97d7af6c4d4f6843d676e242"
    for key, node in nodes.items():
        for target in node.get("inputs", {}).values():
            if isinstance(target, str):
                assert target in nodes, f"{key} names missing node {target}"
        if key != "root":
            assert node["locked"]["narHash"].startswith("sha256-")
    flake = (REPO / "flake.nix").read_text()
    assert 'dream2nix.inputs.nixpkgs.follows = "nixpkgs";' in flake
    assert 'nixpkgs.url = "github:NixOS/nixpkgs/nixpkgs-unstable";' in flake


def test_flake_says_which_cognix_lock_to_run(tmp_path: Path) -> None:
    """Through flake.nix (stub inputs): a model without lock.json names the command that makes it."""
    expr = (
        'let stubs = import ./nix/tests/stub-pkgs.nix; '
        'out = (import ./flake.nix).outputs { self = { outPath = toString ./.; }; '
        'nixpkgs = ./nix/tests/fixtures/stub-nixpkgs; inherit (stubs) dream2nix; }; '
        'in (out.lib.cognixFlake { self = { outPath = "/x"; }; } '
        '{ models/no-lock = ./nix/tests/fixtures/no-lock-model; }).packages.x86_64-linux."models/no-lock".name'
    )
    err = nix_eval_error(expr.replace("{ models/no-lock =", '{ "models/no-lock" ='), tmp_path)
    assert "models/no-lock/lock.json is missing: run `cognix lock models/no-lock`" in err


def test_single_model_flake_names_the_flake_root(tmp_path: Path) -> None:
    expr = (
        'let stubs = import ./nix/tests/stub-pkgs.nix; '
        'out = (import ./flake.nix).outputs { self = { outPath = toString ./.; }; '
        'nixpkgs = ./nix/tests/fixtures/stub-nixpkgs; inherit (stubs) dream2nix; }; '
        'in (out.lib.singleModelFlake { self = { outPath = "/x"; }; name = "m"; dir = ./nix/tests/fixtures/no-lock-model; })'
        '.packages.x86_64-linux.m.name'
    )
    err = nix_eval_error(expr, tmp_path)
    assert "./lock.json is missing: run `cognix lock .`" in err
