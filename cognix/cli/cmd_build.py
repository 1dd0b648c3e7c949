"""`cognix build`, `load`, `push`, `path-info`, `fetch`, `export-inputs`, `import-inputs` (the native engine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click

from cognix.errors import ImageError
from cognix.progress import terminal_progress

_dir_arg = click.argument("model_dir", type=click.Path(file_okay=False, path_type=Path), default=".", required=False)


def _result(model_dir: Path) -> Path:
    result = model_dir / "result"
    if not os.access(result, os.X_OK):
        raise ImageError("no ./result to run", where=str(model_dir), fix="run `cognix build` first")
    return result


def _run_result(args: list[str]) -> None:
    code = subprocess.run(args, check=False).returncode
    if code:
        sys.exit(code)


def register(cli: click.Group) -> None:
    @cli.command("build")
    @_dir_arg
    @click.option("--oci-layout", type=click.Path(path_type=Path), help="Also write an OCI image layout directory.")
    @click.option("--offline", is_flag=True, help="Use only the download cache.")
    @click.option("--root", "root_user", is_flag=True, help="Run as root in the image, like Cog (default: user cog).")
    @click.option("--max-layers", type=click.IntRange(min=2), default=100, show_default=True)
    @click.option("--snapshot-url", help="Debian snapshot archive base URL, for .debs gone from the mirror.")
    @click.option("-o", "--out", type=click.Path(path_type=Path), help="Where to write the result (default ./result).")
    @click.option("--frozen", is_flag=True, help="Refuse to lock: fail when lock.json is missing or stale.")
    @click.option("--secret", "secrets", multiple=True, metavar="id=ID,src=FILE",
                  help="A secret for build.run's `--mount=type=secret,id=ID` (never in a layer or a log).")
    @click.option("--update-run-digests", is_flag=True,
                  help="Record what build.run's steps write now, where it differs from lock.json's records.")
    def build_cmd(model_dir: Path, oci_layout: Path | None, offline: bool, root_user: bool, max_layers: int,
                  snapshot_url: str | None, out: Path | None, frozen: bool, secrets: tuple[str, ...],
                  update_run_digests: bool) -> None:
        """Build the model's image with the native engine into ./result (locking first when lock.json is missing
        or stale, unless --frozen)."""
        from cognix.cli.cmd_lock import summary
        from cognix.config import load_config
        from cognix.engines.native.build import build
        from cognix.engines.native.run_steps import RunContext, parse_secrets
        from cognix.engines.nix import nix_only_reason
        from cognix.lock.lockfile import ensure_lock

        if nix_only_reason(model_dir) is None and (model_dir / "cog.yaml").is_file():
            forbid = "--frozen" if frozen else "--offline" if offline else None
            warnings: list[str] = []
            config = load_config(model_dir)
            for note in config.notices:  # cog.yaml keys accepted but ignored, one located line each
                click.echo(f"note: {note}", err=True)
            lock, reason = ensure_lock(model_dir, config, frozen=forbid, warnings=warnings,
                                       progress=terminal_progress(sys.stderr))
            if reason is not None:
                click.echo(f"{reason}: locked first (as `cognix lock` does)", err=True)
                for warning in warnings:
                    click.echo(f"warning: {warning}", err=True)
                click.echo(summary(lock), err=True)

        context = RunContext(secrets=parse_secrets(secrets), update_records=update_run_digests)
        result = build(model_dir, out=out, oci_layout=oci_layout, offline=offline, root_user=root_user,
                       max_layers=max_layers, snapshot_url=snapshot_url, progress=terminal_progress(),
                       run_context=context)
        click.echo(f"{result.plan.repo_tag} {result.image_id or ''}".strip())
        click.echo(f"wrote {result.result_path}")

    @cli.command("load")
    @_dir_arg
    def load_cmd(model_dir: Path) -> None:
        """Load ./result into Docker (podman when Docker is absent)."""
        _run_result([str(_result(model_dir)), "load"])

    @cli.command("push")
    @click.argument("args", nargs=-1, required=True)
    @click.option("--compression", type=click.Choice(["gzip", "zstd"]), default="gzip", show_default=True,
                  help="Layer compression (zstd: faster to push and pull; Docker >= 23).")
    def push_cmd(args: tuple[str, ...], compression: str) -> None:
        """Push ./result to REF: cognix push [DIR] REF."""
        if len(args) > 2:
            raise click.UsageError("expected [DIR] REF")
        model_dir = Path(args[0]) if len(args) == 2 else Path(".")
        _run_result([str(_result(model_dir)), "push", "--compression", compression, args[-1]])

    @cli.command("path-info")
    @_dir_arg
    @click.option("--json", "as_json", is_flag=True)
    @click.option("--offline", is_flag=True)
    def path_info_cmd(model_dir: Path, as_json: bool, offline: bool) -> None:
        """Every store entry of the image with its own and closure size (like `nix path-info -rSsh`)."""
        from cognix.engines.native.build import plan_model
        from cognix.engines.native.pathinfo import path_info, render

        info = path_info(plan_model(model_dir, offline=offline, progress=terminal_progress()))
        click.echo(json.dumps(info, sort_keys=True, indent=2) if as_json else render(info))

    @cli.command("fetch")
    @_dir_arg
    @click.option("--snapshot-url", help="Debian snapshot archive base URL, for .debs gone from the mirror.")
    def fetch_cmd(model_dir: Path, snapshot_url: str | None) -> None:
        """Download every input of the lock into the cache."""
        from cognix.engines.native.build import _load
        from cognix.engines.native.entries import fetch_all
        from cognix.engines.native.sdists import built_wheels
        from cognix.store.cache import cache_dir, disk_errors

        _config, lock = _load(model_dir.resolve())
        with disk_errors("fetching the lock's inputs", cache_dir()):
            files = fetch_all(lock, snapshot_url=snapshot_url, progress=terminal_progress())
            files |= built_wheels(lock, progress=terminal_progress())[1]  # wheels the lock builds from sdists
        click.echo(f"{len(files)} inputs cached")

    @cli.command("export-inputs")
    @click.argument("dest", type=click.Path(path_type=Path))
    @click.option("--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), default=".")
    def export_cmd(dest: Path, model_dir: Path) -> None:
        """Copy the lock's cached inputs to DEST (files named by sha256)."""
        from cognix.engines.native.build import _load
        from cognix.engines.native.inputs import export_inputs

        _config, lock = _load(model_dir.resolve())
        click.echo(f"{export_inputs(lock, dest)} inputs exported to {dest}")

    @cli.command("import-inputs")
    @click.argument("source", type=click.Path(file_okay=False, path_type=Path))
    def import_cmd(source: Path) -> None:
        """Add the inputs in SOURCE (made by export-inputs) to the cache, verifying each sha256."""
        from cognix.engines.native.inputs import import_inputs

        click.echo(f"{import_inputs(source)} inputs imported")
