"""The OpenAPI schema, generated inside the assembled image tree (build.run steps: cognix.engines.native.run_steps)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from cognix import jsontext
from cognix.engines.native.sandbox import assemble, run_in_tree
from cognix.errors import StoreError
from cognix.fileio import write_atomic
from cognix.image.plan import Entry
from cognix.store.cache import cache_dir
from cognix.store.entries import entry_key, remove_tree
from cognix.store.source import copy_source

# bump when the schema file's bytes change for the same schema (2: UTF-8 kept, as the Nix engine writes it)
SCHEMA_FILE_FORMAT = "2"


def _work_dir() -> Path:
    # Under the cache so hard links into entries work (same file system).
    base = cache_dir() / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=base))


def _env_dict(env: list[str]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in env)


def generate_schema(
    entries: list[Entry], model_dir: Path, files: list[str], env: list[str], source_key: str, *, python: str,
    python_version: str, locks_upstream_cog: bool,
) -> bytes:
    """The model's OpenAPI schema: from predict.py's source where that decides it (static_schema.py), else by
    running `<python> -m cognix.runtime.schema` in the image tree; cached by the inputs it depends on.

    COGNIX_SCHEMA=import always imports; COGNIX_SCHEMA=check does both and fails when they differ (CI's corpus)."""
    mode = os.environ.get("COGNIX_SCHEMA", "static")
    if mode not in ("static", "import", "check"):
        raise StoreError(f"COGNIX_SCHEMA={mode!r} is not a schema mode",
                         fix="set COGNIX_SCHEMA to static (the default), import or check, or unset it")
    static = None
    if mode in ("static", "check"):
        env_map = _env_dict(env)
        refs = {kind: env_map[var] for kind, var in (("predict", "COG_PREDICT_TYPE_STUB"),
                                                     ("train", "COG_TRAIN_TYPE_STUB")) if env_map.get(var)}
        static = _static(model_dir, refs, python_version, locks_upstream_cog, entries)
        if static is not None and mode == "static":
            return static
    imported = _imported_schema(entries, model_dir, files, env, source_key, python=python)
    if static is not None and json.loads(static) != json.loads(imported):
        raise StoreError(
            "the schema made from predict.py's source differs from the one its import gives",
            where=str(model_dir / "predict.py"),
            fix="report this to cognix with the model; build with COGNIX_SCHEMA=import meanwhile",
        )
    return imported


def _static(model_dir: Path, refs: dict[str, str], python_version: str, locks_upstream_cog: bool,
            entries: list[Entry]) -> bytes | None:
    """The static schema, cached by the stubs, the generator's code (the runtime entry) and the Python."""
    from cognix.engines.native.static_schema import runner_stubs, schema_from_stubs

    stubs = runner_stubs(model_dir, refs, python_version=python_version, locks_upstream_cog=locks_upstream_cog)
    if stubs is None:
        return None
    runtime = [f"{e.name}={e.digest}" for e in entries if e.name.startswith("runtime")]
    key = entry_key("static-schema", SCHEMA_FILE_FORMAT, python_version, *runtime,
                    *(f"{k}={v}" for k, v in sorted(refs.items())),
                    *(f"{rel}:{hashlib.sha256(text.encode()).hexdigest()}" for rel, text in sorted(stubs.items())))
    cached = cache_dir() / "schemas" / f"{key}.json"
    if cached.is_file():
        return cached.read_bytes()
    raw = schema_from_stubs(stubs, refs)
    if raw is None:
        return None
    data = jsontext.pretty(json.loads(raw)).encode("utf-8")
    write_atomic(cached, data)
    return data


def _imported_schema(
    entries: list[Entry], model_dir: Path, files: list[str], env: list[str], source_key: str, *, python: str
) -> bytes:
    key = entry_key("schema", SCHEMA_FILE_FORMAT, source_key, python, *(f"{e.name}={e.digest}" for e in entries), *env)
    cached = cache_dir() / "schemas" / f"{key}.json"
    if cached.is_file():
        return cached.read_bytes()
    work = _work_dir()
    try:
        tree = work / "tree"
        tree.mkdir()
        assemble(entries, tree, link=True)
        copy_source(model_dir, files, tree)
        env_map = _env_dict(env) | {"HOME": "/tmp"}
        proc = run_in_tree(tree, [python, "-m", "cognix.runtime.schema"], env=env_map, chdir="/src",
                           timeout=600)
    finally:
        remove_tree(work)
    if proc.returncode != 0:
        raise StoreError(
            "generating the OpenAPI schema inside the image failed:\n" + proc.stderr.decode(errors="replace")[-4000:],
            where=str(model_dir / "predict.py"),
            fix="check that the predictor imports with the locked packages (`cognix lock` after changing requirements)",
        )
    try:
        schema = json.loads(proc.stdout)
    except ValueError:
        raise StoreError("the schema step printed no JSON", where=str(model_dir)) from None
    data = jsontext.pretty(schema).encode("utf-8")
    write_atomic(cached, data)
    return data
