"""`cognix image-spec LOCK_OR_MODEL_DIR --paths PATHS.json --max-layers N`: the image spec (cognix.image.spec) on
stdout, for the Nix engine's build (store paths and their sizes in, layers, config and system files out)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cognix.errors import CognixError


def _read_json(path: Path, what: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CognixError(f"cannot read {what} {path}: {err}", where=str(path), fix=f"pass a JSON file as {what}")


def register(cli: click.Group) -> None:
    @cli.command("image-spec")
    @click.argument("lock", type=click.Path(exists=True, path_type=Path))
    @click.option("--paths", "paths_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help='JSON list of {"path": ..., "size": N} (or narSize), bottom layer first')
    @click.option("--conf", "conf_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="instead of --paths: nixpkgs' conf.json (its store_layers give the order) ...")
    @click.option("--graph", "graph_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="... and a JSON file whose `graph` is the closure's exportReferencesGraph (the sizes)")
    @click.option("--max-layers", type=int, default=100, show_default=True, help="store layers + the source layer")
    @click.option("--epoch", type=int, default=None, help="SOURCE_DATE_EPOCH (default: 1970-01-01T00:00:01Z)")
    @click.option("--environment", default="{}", help="JSON object of extra NAME: value (wins over everything)")
    @click.option("--title", default=None, help="org.opencontainers.image.title (default: the model directory's name)")
    @click.option("--revision", default=None)
    @click.option("--user", default="cog", show_default=True, help='the image user ("" runs as root)')
    @click.option("--schema", "schema_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="the OpenAPI schema JSON (run.cog.openapi_schema)")
    @click.option("--tini", default="/usr/bin/tini", show_default=True, help="the entrypoint's tini")
    @click.option("--gpu-lib-dir", "gpu_lib_dirs", multiple=True, help="LD_LIBRARY_PATH after the driver's")
    def image_spec(lock: Path, paths_file: Path | None, conf_file: Path | None, graph_file: Path | None,
                   max_layers: int, epoch: int | None, environment: str, title: str | None, revision: str | None,
                   user: str, schema_file: Path | None, tini: str,
                   gpu_lib_dirs: tuple[str, ...]) -> None:
        """Print the image spec (layers, config, system files, weights) for LOCK (lock.json or its directory)."""
        from cognix.image import spec

        lock_file = lock / "lock.json" if lock.is_dir() else lock
        section = spec.lock_section(lock_file)
        try:
            extra = json.loads(environment)
        except ValueError as err:
            raise CognixError(f"--environment is not JSON: {err}", fix='pass e.g. --environment \'{"A": "1"}\'')
        if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
            raise CognixError("--environment must be a JSON object of strings", fix='e.g. {"A": "1"}')
        if max_layers < 2:
            raise CognixError("--max-layers must be at least 2 (store layers + the source layer)", fix="raise it")
        if paths_file is not None and conf_file is not None:
            raise CognixError("--paths and --conf both give the layer candidates", fix="pass one of them")
        if (conf_file is None) != (graph_file is None):
            raise CognixError("--conf and --graph go together", fix="pass both (or --paths)")
        if conf_file is not None:
            graph = _read_json(graph_file, "--graph")
            candidates = spec.candidates_from_graph(_read_json(conf_file, "--conf").get("store_layers", []),
                                                    graph.get("graph", []) if isinstance(graph, dict) else graph)
        else:
            candidates = spec.candidates_from_json(_read_json(paths_file, "--paths") if paths_file is not None else [])
        inputs = spec.inputs_from_lock(
            section, candidates=candidates, max_layers=max_layers,
            title=title if title is not None else lock_file.resolve().parent.name, epoch=epoch, environment=extra,
            revision=revision, user=user, tini=tini, gpu_lib_dirs=gpu_lib_dirs,
            schema=_read_json(schema_file, "--schema") if schema_file is not None else None)
        click.echo(spec.spec_json(spec.spec_for(inputs)), nl=False)
