"""`cognix init`: golden flake.nix + output on the examples and a fresh Cog project; refusal and --force."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cognix.cli.main import cli
from cognix.errors import CognixError
from cognix.nixgen import flake_name, init_project, render_flake

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = ["hello", "torch-demo", "ebsynth-cpu"]
UPDATE = os.environ.get("COGNIX_UPDATE_GOLDEN") == "1"


def _project(tmp_path: Path, name: str) -> Path:
    """A copy of examples/<name> (or a fresh Cog project for "fresh-model") under tmp_path/<name>."""
    dest = tmp_path / name
    if name in EXAMPLES:
        shutil.copytree(REPO / "examples" / name, dest, ignore=shutil.ignore_patterns("lock.json", "flake.nix", "result"))
    else:
        dest.mkdir()
        (dest / "cog.yaml").write_text('build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n')
        (dest / "predict.py").write_text("from cog import BasePredictor\n\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'hi'\n")
    return dest


def _run(tmp_path: Path, *args: str):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(cwd)


def _golden(name: str, file: str, actual: str) -> None:
    path = GOLDEN / name / file
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
    assert actual == path.read_text(), f"{path} differs (COGNIX_UPDATE_GOLDEN=1 rewrites it)"


@pytest.mark.parametrize("name", EXAMPLES + ["fresh-model"])
def test_init_matches_golden(tmp_path: Path, name: str) -> None:
    project = _project(tmp_path, name)
    result = _run(tmp_path, "init", name, "--no-lock")
    assert result.exit_code == 0, result.output
    _golden(name, "flake.nix", (project / "flake.nix").read_text())
    _golden(name, "stdout.txt", result.output)
    assert not (project / "lock.json").exists()


@pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="nix-instantiate is not installed (nix-bin)")
@pytest.mark.parametrize("name", EXAMPLES + ["fresh-model"])
def test_generated_flake_parses(name: str, tmp_path: Path) -> None:
    env = dict(os.environ, NIX_CONFIG="build-users-group =", NIX_STATE_DIR=str(tmp_path / "s"), HOME=str(tmp_path))
    proc = subprocess.run(["nix-instantiate", "--parse", str(GOLDEN / name / "flake.nix")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    project = _project(tmp_path, "hello")
    (project / "flake.nix").write_text("# mine\n")
    result = _run(tmp_path, "init", "hello", "--no-lock")
    assert result.exit_code == 1
    assert "flake.nix already exists" in result.output and "--force" in result.output
    assert (project / "flake.nix").read_text() == "# mine\n"


def test_force_overwrites(tmp_path: Path) -> None:
    project = _project(tmp_path, "hello")
    (project / "flake.nix").write_text("# mine\n")
    result = _run(tmp_path, "init", "hello", "--no-lock", "--force")
    assert result.exit_code == 0, result.output
    assert (project / "flake.nix").read_text() == render_flake("hello")


def test_not_a_cog_project(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = _run(tmp_path, "init", "empty", "--no-lock")
    assert result.exit_code == 1
    assert "no cog.yaml" in result.output
    assert not (tmp_path / "empty" / "flake.nix").exists()


def test_lock_written_or_kept(tmp_path: Path) -> None:
    project = _project(tmp_path, "hello")
    calls: list[Path] = []

    def locker(status: str):
        def run(model_dir: Path) -> str:
            calls.append(model_dir)
            return status
        return run

    first = init_project(project, locker=locker("written"))
    assert first.written == ["flake.nix", "lock.json"] and first.lock_status == "written"
    second = init_project(project, force=True, locker=locker("up to date"))
    assert second.written == ["flake.nix"] and second.lock_status == "up to date"
    assert calls == [project, project]
    assert "cognix lock ." not in "\n".join(second.next_steps())


def test_flake_url_option_and_validation(tmp_path: Path) -> None:
    project = _project(tmp_path, "hello")
    result = _run(tmp_path, "init", "hello", "--no-lock", "--flake-url", "path:/opt/cognix")
    assert result.exit_code == 0, result.output
    assert 'inputs.cognix.url = "path:/opt/cognix";' in (project / "flake.nix").read_text()
    with pytest.raises(CognixError, match="escaped"):
        render_flake("hello", 'github:x/y"; evil = "')


def test_flake_name_is_a_nix_attribute(tmp_path: Path) -> None:
    assert flake_name(tmp_path / "My Model_v2") == "my-model-v2"
    assert flake_name(tmp_path / "___") == "model"


def test_template_dir_is_the_rendered_template() -> None:
    """nix/template (`nix flake init -t`) is what `cognix init` writes for a model named "model"."""
    assert (REPO / "nix" / "template" / "flake.nix").read_text() == render_flake("model")


def test_init_in_the_current_directory_prints_no_cd(tmp_path: Path) -> None:
    project = _project(tmp_path, "fresh-model")
    result = _run(project, "init", "--no-lock")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("wrote ./flake.nix\nnext:\n  cognix lock .")
    assert "  cd " not in result.output
