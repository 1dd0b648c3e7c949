"""Defaults the two engines share: cog.yaml's python_version (cognix/config/defaults.json, read by
cognix/config/model.py and by nix/modules/cog.nix, nix/lib/cog-config.nix), and the Nix engine's Python versions
(nix/lib/python.nix: every one of Cog's the pinned nixpkgs has, a clear error naming them for the others)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nixeval import REPO, needs_nix, nix_eval, nix_eval_error

from cognix.config.model import DEFAULT_PYTHON, SUPPORTED_PYTHON, CogConfig

pytestmark = needs_nix

COG_NIX_DEFAULT = 'let lib = { mkOption = o: o; types = { }; }; in (import ./nix/modules/cog.nix { inherit lib; }).options.cog.build.python_version.default'
LOCK_DEFAULT = '(import ./nix/lib/cog-config.nix { mkDefault = v: v; } { config = { }; }).cog.build.python_version'


def test_default_python_is_one_value_for_both_engines(tmp_path: Path) -> None:
    shared = json.loads((REPO / "cognix" / "config" / "defaults.json").read_text())["python_version"]
    assert DEFAULT_PYTHON == shared
    assert CogConfig.model_validate({}).build.python_version == shared
    assert nix_eval(COG_NIX_DEFAULT, tmp_path) == shared
    assert nix_eval(LOCK_DEFAULT, tmp_path) == shared


def test_nix_python_list_is_cogs(tmp_path: Path) -> None:
    versions = nix_eval('let pkgs = builtins.listToAttrs (map (v: { name = "python" + builtins.replaceStrings [ "." ] [ "" ] v; value = v; }) '
                        f'[ {" ".join(json.dumps(v) for v in SUPPORTED_PYTHON)} ]); '
                        f'in map (import ./nix/lib/python.nix pkgs) [ {" ".join(json.dumps(v) for v in SUPPORTED_PYTHON)} ]', tmp_path)
    assert versions == list(SUPPORTED_PYTHON)  # every version Cog accepts is taken when the pin has it


@pytest.mark.parametrize(("present", "named"), [({"python39": "a", "python312": "b"}, "it has 3.9, 3.12: choose one of those"),
                                                ({}, "it has none of Cog's versions")])
def test_a_python_the_pin_lacks_names_the_available_ones(present: dict[str, str], named: str, tmp_path: Path) -> None:
    pkgs = "{ " + " ".join(f'{k} = "{v}";' for k, v in present.items()) + " }"
    err = nix_eval_error(f'import ./nix/lib/python.nix {pkgs} "3.13"', tmp_path)
    assert "Python 3.13 (cog.yaml build.python_version) is not in the pinned nixpkgs (no pkgs.python313)" in err
    assert named in err and "`cognix build`" in err
