"""Steps that run inside the assembled tree: the OpenAPI schema and cog.yaml's `build.run` commands."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from cognix.engines.native.sandbox import assemble, run_in_tree
from cognix.errors import StoreError
from cognix.fileio import write_atomic
from cognix.image.plan import Entry
from cognix.store.cache import cache_dir
from cognix.store.entries import entry_key, make_entry, remove_tree
from cognix.store.source import copy_source


def _work_dir() -> Path:
    # Under the cache so hard links into entries work (same file system).
    base = cache_dir() / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=base))


def _env_dict(env: list[str]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in env)


def generate_schema(
    entries: list[Entry], model_dir: Path, files: list[str], env: list[str], source_key: str, *, python: str
) -> bytes:
    """Run `<python> -m cognix.runtime.schema` in the image tree; cached by the inputs it depends on."""
    key = entry_key("schema", source_key, python, *(f"{e.name}={e.digest}" for e in entries), *env)
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
    data = json.dumps(schema, sort_keys=True, indent=2).encode() + b"\n"
    write_atomic(cached, data)
    return data


def _snapshot(tree: Path) -> dict[str, tuple]:
    state: dict[str, tuple] = {}
    for dirpath, dirs, files in os.walk(tree):
        for name in dirs + files:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            link = os.readlink(full) if stat.S_ISLNK(st.st_mode) else None
            size = st.st_size if stat.S_ISREG(st.st_mode) else 0
            state[os.path.relpath(full, tree)] = (stat.S_IFMT(st.st_mode), st.st_mode & 0o7777, size,
                                                  st.st_mtime_ns if stat.S_ISREG(st.st_mode) else 0, link)
    return state


WHITEOUT = ".wh."
_SCRATCH = ("tmp/", "proc/", "dev/")


def _removed(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    """Paths the commands deleted, topmost only (a removed directory hides all it held)."""
    gone = sorted(rel for rel in before if rel not in after and not rel.startswith(_SCRATCH))
    top: list[str] = []
    for rel in gone:
        if not any(rel.startswith(t + "/") for t in top):
            top.append(rel)
    return top


def run_commands_entry(entries: list[Entry], steps: list, env: list[str]) -> Entry:  # steps: list[RunStep]
    """Run cog.yaml's build.run commands over a writable copy of the tree; what they add or change is one entry."""
    for step in steps:
        for mount in getattr(step, "mounts", []) or []:
            if getattr(mount, "type", "") == "secret":
                raise StoreError(
                    f"build.run command {step.command!r} needs secret {mount.id!r}, which the native engine does "
                    "not provide",
                    where="cog.yaml",
                    fix="remove the secret mount, or fetch the data at runtime instead",
                )
    commands = [s.command for s in steps]
    key = entry_key("run", json.dumps(commands), *(f"{e.name}={e.digest}" for e in entries), *env)
    print("warning: build.run output is only as deterministic as the commands themselves", file=sys.stderr)

    def build(out: Path) -> None:
        work = _work_dir()
        try:
            tree = work / "tree"
            tree.mkdir()
            assemble(entries, tree, link=False)
            before = _snapshot(tree)
            env_map = _env_dict(env) | {"HOME": "/root"}
            if not (tree / "bin/sh").exists():
                raise StoreError("build.run needs /bin/sh in the image", where="cog.yaml",
                                 fix="run `cognix lock`: it adds `dash` and `coreutils` whenever build.run is set")
            for command in commands:
                proc = run_in_tree(tree, ["/bin/sh", "-c", command], env=env_map, writable=True, share_net=True)
                if proc.returncode != 0:
                    raise StoreError(
                        f"build.run command failed (exit {proc.returncode}): {command}\n"
                        + proc.stderr.decode(errors="replace")[-4000:],
                        where="cog.yaml",
                    )
            after = _snapshot(tree)
            for rel in _removed(before, after):
                # OCI whiteout: an empty `.wh.<name>` hides what lower layers have at that path.
                marker = out / os.path.dirname(rel) / f"{WHITEOUT}{os.path.basename(rel)}"
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.write_bytes(b"")
            for rel in sorted(after):
                if before.get(rel) == after[rel] or rel.startswith(_SCRATCH):
                    continue
                src, dst = tree / rel, out / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                if src.is_symlink():
                    os.symlink(os.readlink(src), dst)
                elif src.is_dir():
                    dst.mkdir(exist_ok=True)
                else:
                    shutil.copy2(src, dst)
        finally:
            remove_tree(work)

    return make_entry(key, "run", build, references=sorted(e.name for e in entries))
