"""The `cognix` command: parses arguments, calls one stage function, renders its result."""

from __future__ import annotations

import sys

import click

from cognix import __version__
from cognix.errors import CognixError


class CognixGroup(click.Group):
    """Turns CognixError into a message and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except CognixError as err:
            click.echo(f"error: {err.message}", err=True)
            sys.exit(1)


@click.group(cls=CognixGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cognix")
def cli() -> None:
    """Build Cog models into bit-reproducible, layered OCI images."""


def _register_commands() -> None:
    """Each stage's CLI module adds its commands to `cli` (one module per command group)."""
    import importlib
    import pkgutil

    import cognix.cli as package

    for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
        if module.startswith("cmd_"):
            importlib.import_module(f"cognix.cli.{module}").register(cli)


_register_commands()


def main() -> None:
    cli(prog_name="cognix")
