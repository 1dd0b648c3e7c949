"""`cognix schema [DIR]`: print the model's OpenAPI schema without starting a server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from cognix.errors import CognixError


def schema_json(model_dir: Path, *, predict: str | None, train: str | None) -> str:
    """The compact schema JSON for the runners of `model_dir`; CognixError with the loader's message otherwise.

    The runners are imported in a child interpreter, so a model's imports and prints never touch this process.
    """
    if not predict and not train:
        raise CognixError("cog.yaml sets neither 'predict' nor 'train'", where=str(model_dir / "cog.yaml"),
                          fix="add e.g. predict: \"predict.py:Predictor\"")
    command = [sys.executable, "-m", "cognix.runtime.schema", "--cwd", str(model_dir)]
    if predict:
        command += ["--predict", predict]
    if train:
        command += ["--train", train]
    env = dict(os.environ)
    # the child must import this cognix even when run from another directory
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env.pop("COG_PREDICT_TYPE_STUB", None)
    env.pop("COG_TRAIN_TYPE_STUB", None)
    result = subprocess.run(command, cwd=model_dir, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
        message = "\n".join(errors) or (lines[-1] if lines else f"schema generation exited with {result.returncode}")
        raise CognixError(message, where=str(model_dir),
                          fix="fix the runner named in cog.yaml (cognix schema imports it like the image does)")
    return result.stdout.strip()


def _runner_refs(model_dir: Path) -> tuple[str | None, str | None]:
    from cognix.config import load_config

    config = load_config(model_dir)
    return config.predict, config.train


def register(cli: click.Group) -> None:
    @cli.command("schema")
    @click.argument("model_dir", default=".", type=click.Path(file_okay=False, path_type=Path))
    def schema(model_dir: Path) -> None:
        """Print the OpenAPI schema of the model in MODEL_DIR (default: the current directory)."""
        model_dir = model_dir.resolve()
        predict, train = _runner_refs(model_dir)
        click.echo(schema_json(model_dir, predict=predict, train=train))
