"""`cognix init`: make a Cog project a Nix flake (flake.nix + lock.json)."""

from __future__ import annotations

import os
from pathlib import Path

import click


def register(cli: click.Group) -> None:
    @cli.command("init")
    @click.argument("model_dir", default=".", type=click.Path(file_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Overwrite an existing flake.nix.")
    @click.option("--flake-url", metavar="REF", envvar="COGNIX_FLAKE_URL", default=None,
                  help="Flake reference of cognix used as the input (default: github:cognix/cognix).")
    @click.option("--no-lock", is_flag=True, help="Only write flake.nix; run `cognix lock` yourself.")
    def init_cmd(model_dir: Path, force: bool, flake_url: str | None, no_lock: bool) -> None:
        """Write flake.nix (building this model with cognix's Nix engine) and lock.json."""
        from cognix.nixgen import DEFAULT_FLAKE_URL, init_project

        result = init_project(model_dir, force=force, flake_url=flake_url or DEFAULT_FLAKE_URL, lock=not no_lock)
        for name in result.written:
            click.echo(f"wrote {os.path.join(str(model_dir), name)}")
        if result.lock_status == "up to date":
            click.echo(f"{os.path.join(str(model_dir), 'lock.json')} is up to date")
        click.echo("next:")
        here = model_dir.resolve() == Path.cwd().resolve()
        for step in result.next_steps(cd=None if here else str(model_dir)):
            click.echo(f"  {step}")
