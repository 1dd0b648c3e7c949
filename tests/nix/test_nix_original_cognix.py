"""For users of the original cognix (datakami/cognix): `nix develop` shells, sourceIgnores as lines
or a list, cognix.systemPackages.NAME without cog.yaml listing NAME, and the original's option names
(renamed: a warning; removed: an error saying what to do instead).

nix/tests/original-cognix.nix runs with the stubs (always). nix/tests/original-cognix-lib.nix needs
nixpkgs' real module system: a nixpkgs or nixpkgs.lib checkout named by COGNIX_NIXPKGS_LIB (the
variable scripts/nix-real-eval sets); without one those tests are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from nixeval import REPO, needs_nix, nix, nix_eval

pytestmark = needs_nix

_LIB_ENV = os.environ.get("COGNIX_NIXPKGS_LIB")


def _lib_dir() -> Path | None:
    if not _LIB_ENV:
        return None
    root = Path(_LIB_ENV)
    for cand in (root / "lib", root):
        if (cand / "default.nix").is_file() and (cand / "modules.nix").is_file():
            return cand.resolve()
    return None


LIB = _lib_dir()
needs_lib = pytest.mark.skipif(
    LIB is None,
    reason="COGNIX_NIXPKGS_LIB does not name a nixpkgs (or nixpkgs.lib) checkout: nixpkgs' module system is needed",
)

# a model's modules under the real module system, through mkCognixImage (what nix/tests/original-cognix-lib.nix sets up)
_IMAGE = """
let
  stubs = import ./nix/tests/stub-pkgs.nix;
  lib = import {lib};
  pkgs = stubs.pkgs // {{ inherit lib; libGL = stubs.drv "libGL"; ebsynth = stubs.drv "ebsynth"; }};
  dream2nix = stubs.dream2nix // {{ lib.evalModules = args: {{ pyEnv = stubs.pyEnv args; }}; }};
  cognixLib = import ./nix/lib {{ inherit pkgs dream2nix; cognixSrc = "/cognix-src"; }};
in
(cognixLib.mkCognixImage {{ modelDir = ./nix/tests/fixtures/nix-model; name = "nix-model"; modules = [ {module} ]; }}).{attr}
"""


def _image(tmp: Path, module: str, attr: str = "name"):
    return nix(["--eval", "--strict", "--json", "--expr", _IMAGE.format(lib=LIB, module=module, attr=attr)], tmp, check=False)


def _failed(cases: list[dict]) -> list[dict]:
    return [c for c in cases if not c["ok"]]


def test_stub_cases_pass(tmp_path: Path) -> None:
    """devShells (a), sourceIgnores' coercion (b), system_packages' union (c), the option table (d)."""
    cases = nix_eval("import ./nix/tests/original-cognix.nix", tmp_path)
    assert _failed(cases) == []
    names = [c["name"] for c in cases]
    assert any(n.startswith("devShell") for n in names)
    assert any(n.startswith("sourceIgnores") for n in names)
    assert any(n.startswith("system_packages") for n in names)
    assert "every option of the original is kept, renamed or removed" in names


def test_stub_cases_are_in_the_pure_suite() -> None:
    assert "./original-cognix.nix" in (REPO / "nix" / "tests" / "default.nix").read_text()


def test_flake_dev_shell_wraps_the_cli(tmp_path: Path) -> None:
    """The devShell's `cognix` is a script running the packaged CLI, not the Python application itself
    (whose propagated python3 would shadow the model's interpreter)."""
    expr = (
        'let stubs = import ./nix/tests/stub-pkgs.nix; '
        'out = (import ./flake.nix).outputs { self = { outPath = toString ./.; }; '
        'nixpkgs = ./nix/tests/fixtures/stub-nixpkgs; inherit (stubs) dream2nix; }; '
        'shell = (out.lib.singleModelFlake { self = { outPath = "/x"; }; name = "m"; dir = ./nix/tests/fixtures/nix-model; })'
        '.devShells.x86_64-linux.default; '
        'in map (p: { inherit (p) name; text = p.text or null; }) shell.args.packages'
    )
    packages = nix_eval(expr, tmp_path)
    assert [p["name"] for p in packages] == ["python3.11-env", "cognix", "ebsynth"]
    assert packages[1]["text"].strip() == 'exec /nix/store/00000000000000000000000000000000-cognix-cli/bin/cognix "$@"'


@needs_lib
def test_real_module_system_cases_pass(tmp_path: Path) -> None:
    cases = nix_eval(f"import ./nix/tests/original-cognix-lib.nix {{ libPath = {LIB}; }}", tmp_path)
    assert _failed(cases) == []
    assert len(cases) >= 20


@needs_lib
@pytest.mark.parametrize(
    ("module", "attr", "value", "warning"),
    [
        ("{ dockerTools.streamLayeredImage.maxLayers = 50; }", "config.cognix.maxLayers", 50,
         "warning: `dockerTools.streamLayeredImage.maxLayers' (the original cognix's name, defined in `<unknown-file>') "
         "is now `cognix.maxLayers'; use that name."),
        ("{ name = \"old\"; }", "name", "stream-old", "is now `cognix.name'"),
        ("{ cognix.merge-native.cudnn = true; }", "config.cognix.cudaFromNixpkgs", True, "maps to `cognix.cudaFromNixpkgs'"),
    ],
)
def test_renamed_option_warns(tmp_path: Path, module: str, attr: str, value: object, warning: str) -> None:
    proc = _image(tmp_path, module, attr)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == value
    assert warning in proc.stderr
    # once: the warning belongs to the definition, not to every read of the value
    assert proc.stderr.count(warning) == 1


@needs_lib
def test_no_warning_without_old_names(tmp_path: Path) -> None:
    proc = _image(tmp_path, "{ cognix.maxLayers = 50; }", "config.cognix.maxLayers")
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr


@needs_lib
def test_removed_option_is_a_clear_error(tmp_path: Path) -> None:
    proc = _image(tmp_path, '{ cog.build.python_snapshot_date = "2023-10-05"; }')
    assert proc.returncode != 0
    assert "cognix: this model's modules need changes:" in proc.stderr
    assert ("`cog.build.python_snapshot_date' (an option of the original cognix, defined in `<unknown-file>') has no "
            "equivalent in cognix: `cognix lock` pins every wheel by sha256 in lock.json") in proc.stderr


@needs_lib
def test_original_example_default_nix_names_every_removed_option(tmp_path: Path) -> None:
    """The original's examples/gte-small/default.nix: each of its four options is named, with its file."""
    model = tmp_path / "default.nix"
    model.write_text('{\n  cog.build.python_snapshot_date = "2023-10-05";\n  cog.build.cog_version = "0.8.6";\n'
                     "  cognix.includeNix = true;\n  cognix.fake_pip = true;\n}\n")
    proc = _image(tmp_path, str(model))
    assert proc.returncode != 0
    for name in ("cog.build.python_snapshot_date", "cog.build.cog_version", "cognix.includeNix", "cognix.fake_pip"):
        assert f"- `{name}' (an option of the original cognix, defined in `{model}') has no equivalent in cognix: " in proc.stderr
    assert proc.stderr.count("Remove it.") == 4


_DEV_SHELLS = """
let
  nixpkgs = {nixpkgs};
  pkgs = import nixpkgs {{ system = "x86_64-linux"; }};
  # dream2nix: an env of the stand-in set (the real one needs its own inputs: tests/nix/realeval.py)
  dream2nix = {{
    lib.evalModules = args: {{ pyEnv = pkgs.python311.withPackages (_: [ ]); }};
    modules.dream2nix.pip = {{ }};
    modules.dream2nix.lock = {{ }};
  }};
  out = (import ./flake.nix).outputs {{ self = {{ outPath = ./.; }}; inherit nixpkgs dream2nix; }};
  model = out.lib.singleModelFlake {{ self = {{ outPath = "/x"; }}; name = "w"; dir = ./nix/tests/fixtures/weights-model; }};
  shells = model.devShells.x86_64-linux;
in
{{
  repo = out.devShells.x86_64-linux.default.drvPath;
  model = shells.w.drvPath;
  default = shells.default.drvPath;
  packages = map (p: p.name) shells.w.packages;
}}
"""


@needs_lib
def test_dev_shells_are_derivations_with_the_stand_in_nixpkgs(tmp_path: Path) -> None:
    """flake.nix's devShells under nixpkgs' real lib and nix/tests/stand-in-nixpkgs: drvPaths, the
    model's env and the CLI (nothing is built)."""
    assert LIB is not None
    nixpkgs = tmp_path / "nixpkgs"
    shutil.copytree(REPO / "nix" / "tests" / "stand-in-nixpkgs", nixpkgs)
    shutil.copytree(LIB, nixpkgs / "lib")
    out = nix_eval(_DEV_SHELLS.format(nixpkgs=nixpkgs), tmp_path)
    assert out["repo"].endswith("-cognix.drv")
    assert out["model"].endswith("-cognix-w.drv") and out["default"] == out["model"]
    assert out["packages"] == ["python3-3.11.9-env", "cognix"]
