"""cog.yaml's build.run steps, as on Cog: each runs in the sandbox over a writable copy of the image's tree, with what
Cog's base images give a step (a shell, coreutils, curl, wget, git, the compiler toolchain, pip installing into the
image's site-packages; cognix.lock.debian.RUN_TOOLS) and the network. Those tools are there for the steps only.

Dockerfile RUN flags in front of a command are read as Docker reads them, for the two Cog models use:
`--mount=type=cache,target=DIR[,id=ID]` (a directory kept between builds of this model, never in a layer) and
`--mount=type=secret,id=ID[,target=PATH][,required=true]` (from `cognix build --secret id=ID,src=FILE`: mounted
read-only, never in a layer, its value redacted from what the build prints).

What the steps change is one layer: added and changed files, and OCI whiteouts for deleted ones. Reproducibility is
checked, not assumed: what each step wrote is recorded in the lock by the first build (RunRecord); a later build with
the same inputs must write the same, or it fails naming the step and the first paths that differ, unless it is asked
to record the new result. Bytecode the steps write is dropped (Python's .pyc files embed source mtimes).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cognix.engines.native.sandbox import assemble, run_in_tree
from cognix.errors import StoreError
from cognix.image.plan import Entry
from cognix.lock.model import Lock, RunRecord
from cognix.store.cache import cache_dir
from cognix.store.entries import entry_key, make_entry, remove_tree

RUN_FORMAT = "2"  # bump when what a step's layer holds changes
WHITEOUT = ".wh."
# never part of the layer: scratch, kernel file systems, secrets, and what the sandbox mounts for name resolution
_SCRATCH = ("tmp/", "proc/", "dev/", "run/secrets/", "etc/resolv.conf", "etc/hosts", "etc/ssl/certs/ca-certificates.crt")
_TAIL_LINES = 30
SOURCE_DATE_EPOCH = "315532800"


@dataclass(frozen=True)
class CacheMount:
    target: str
    id: str


@dataclass(frozen=True)
class SecretMount:
    id: str
    target: str
    required: bool = True


@dataclass(frozen=True)
class Step:
    """One build.run step: its shell command and its mounts."""

    index: int
    command: str
    caches: tuple[CacheMount, ...] = ()
    secrets: tuple[SecretMount, ...] = ()


@dataclass(frozen=True)
class RunContext:
    """What a build gives the steps beyond the lock: secret files, and whether to record new results."""

    secrets: dict[str, Path] = field(default_factory=dict)  # id -> file on this machine
    update_records: bool = False


_MOUNT = re.compile(r"^\s*--mount=(\S+)\s+")


def parse_secrets(options: tuple[str, ...] | list[str]) -> dict[str, Path]:
    """`cognix build --secret id=ID,src=FILE` values (Docker's syntax) -> id: file."""
    out: dict[str, Path] = {}
    for option in options:
        fields = dict(part.partition("=")[::2] for part in option.split(","))
        secret_id, src = fields.get("id", ""), fields.get("src") or fields.get("source") or ""
        if not secret_id or not src:
            raise StoreError(f"--secret {option!r}: expected id=ID,src=FILE")
        if not Path(src).is_file():
            raise StoreError(f"--secret {option!r}: {src} is not a readable file")
        out[secret_id] = Path(src).resolve()
    return out


def _mount(spec: str, index: int) -> CacheMount | SecretMount:
    """One `--mount=` value: comma-separated key=value pairs, as Docker's RUN --mount takes them."""
    fields: dict[str, str] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        fields[key.strip().lower()] = value.strip() if sep else "true"
    kind = fields.get("type", "bind")
    target = fields.get("target") or fields.get("dst") or fields.get("destination") or ""
    if kind == "cache":
        if not target.startswith("/"):
            raise StoreError(f"build.run[{index}]: a cache mount needs an absolute target, got {spec!r}",
                             where="cog.yaml")
        return CacheMount(target=os.path.normpath(target), id=fields.get("id") or target)
    if kind == "secret":
        secret_id = fields.get("id") or os.path.basename(target)
        if not secret_id:
            raise StoreError(f"build.run[{index}]: a secret mount needs an id, got {spec!r}", where="cog.yaml")
        return SecretMount(id=secret_id, target=os.path.normpath(target or f"/run/secrets/{secret_id}"),
                           required=fields.get("required", "false").lower() in ("true", "1"))
    raise StoreError(f"build.run[{index}]: --mount type={kind} is not supported (only cache and secret)",
                     where="cog.yaml", fix="fetch the files in the step instead, or list them as weights")


def parse_steps(steps: list) -> list[Step]:  # steps: config's RunStep (command, mounts)
    """build.run items as Steps: leading --mount= flags split off the command, cog.yaml's own mounts added."""
    out = []
    for index, item in enumerate(steps):
        command, mounts = item.command, []
        while match := _MOUNT.match(command):
            mounts.append(_mount(match.group(1), index))
            command = command[match.end():]
        for m in getattr(item, "mounts", []) or []:  # cog.yaml's structured form: secrets only
            mounts.append(SecretMount(id=m.id, target=os.path.normpath(m.target), required=True))
        out.append(Step(index, command, tuple(m for m in mounts if isinstance(m, CacheMount)),
                        tuple(m for m in mounts if isinstance(m, SecretMount))))
    return out


def _env(lock: Lock, image_env: list[str], steps: list[Step]) -> dict[str, str]:
    env = dict(item.split("=", 1) for item in image_env)
    layout = lock.target.layout()
    env |= {"HOME": "/root", "PATH": f"{layout.scripts}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "PYTHONDONTWRITEBYTECODE": "1", "PIP_NO_COMPILE": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_BREAK_SYSTEM_PACKAGES": "1", "PIP_ROOT_USER_ACTION": "ignore"}
    if lock.index_urls:  # the index the lock resolved against, not whatever pip would default to
        env["PIP_INDEX_URL"] = lock.index_urls[0]
        if lock.index_urls[1:]:
            env["PIP_EXTRA_INDEX_URL"] = " ".join(lock.index_urls[1:])
    if not any(c.target.startswith("/root/.cache") for s in steps for c in s.caches):
        env["PIP_NO_CACHE_DIR"] = "1"  # pip's cache has random names and times; a cache mount keeps it out
    return env


def _inputs(step: Step, entries: list[Entry], env: dict[str, str], secrets: dict[str, Path]) -> str:
    """What a step ran with (secrets by their content's hash, never their value)."""
    digest = hashlib.sha256(RUN_FORMAT.encode())
    for part in [step.command, json.dumps([c.__dict__ for c in step.caches]),
                 *(f"{s.id}={s.target}={_file_sha(secrets[s.id]) if s.id in secrets else '-'}" for s in step.secrets),
                 *(f"{e.name}={e.digest}" for e in entries), *(f"{k}={v}" for k, v in sorted(env.items()))]:
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_entry(lock: Lock, base: list[Entry], tools: list[Entry], raw_steps: list, image_env: list[str],
              model_key: str, ctx: RunContext) -> tuple[Entry, list[RunRecord]]:
    """The layer of the build.run steps, and what each step wrote (to compare with, or record in, the lock)."""
    steps = parse_steps(raw_steps)
    for step in steps:
        for secret in step.secrets:
            if secret.required and secret.id not in ctx.secrets:
                raise StoreError(f"build.run[{step.index}] needs the secret {secret.id!r}", where="cog.yaml",
                                 fix=f"pass it: cognix build --secret id={secret.id},src=FILE")
    env = _env(lock, image_env, steps)
    entries = [*base, *tools]
    inputs = [_inputs(step, entries, env, ctx.secrets) for step in steps]
    key = entry_key("run", *inputs)
    records: list[RunRecord] = []
    print("warning: build.run output is only as deterministic as the commands themselves; cognix checks it",
          file=sys.stderr)

    def build(out: Path) -> None:
        records.extend(_run_all(steps, entries, env, inputs, model_key, ctx, out))

    entry = make_entry(key, "run", build, references=sorted(e.name for e in base))
    if not records:  # a cached entry: its records were written beside it
        records = _load_records(entry)
    return entry, records


def _records_path(entry: Entry) -> Path:
    return Path(entry.root).parent / "run-records.json"


def _load_records(entry: Entry) -> list[RunRecord]:
    try:
        return [RunRecord.model_validate(r) for r in json.loads(_records_path(entry).read_text())]
    except (OSError, ValueError):
        raise StoreError("the cached build.run layer has no record of its steps",
                         where=str(Path(entry.root).parent), fix="clear the cognix cache, then build again") from None


def _run_all(steps: list[Step], entries: list[Entry], env: dict[str, str], inputs: list[str], model_key: str,
             ctx: RunContext, out: Path) -> list[RunRecord]:
    work = Path(cache_dir() / "tmp")  # on the cache's file system, beside the entries
    work.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=work, prefix="run-"))
    try:
        tree = scratch / "tree"
        tree.mkdir()
        assemble(entries, tree, link=False)  # a copy: steps may change files in place, the store must not see it
        if not (tree / "bin/sh").exists():
            raise StoreError("build.run needs /bin/sh in the build tree", where="cog.yaml",
                             fix="run `cognix lock`: it adds a shell and the usual tools whenever build.run is set")
        original = _snapshot(tree)
        records = []
        for step, step_inputs in zip(steps, inputs):
            before = _snapshot(tree)
            _run_step(tree, step, env, model_key, ctx)
            _drop_bytecode(tree, before)
            after = _snapshot(tree)
            records.append(_record(tree, step, before, after, step_inputs))
        _write_layer(tree, original, _snapshot(tree), out, steps)
    finally:
        remove_tree(scratch)
    (out.parent / "run-records.json").write_text(json.dumps([r.model_dump() for r in records], sort_keys=True))
    return records


def _run_step(tree: Path, step: Step, env: dict[str, str], model_key: str, ctx: RunContext) -> None:
    binds = []
    for cache in step.caches:
        host = cache_dir() / "run-caches" / model_key / hashlib.sha256(cache.id.encode()).hexdigest()[:16]
        host.mkdir(parents=True, exist_ok=True)
        binds.append((str(host), cache.target, True))
    secret_values = []
    for secret in step.secrets:
        if secret.id in ctx.secrets:
            binds.append((str(ctx.secrets[secret.id]), secret.target, False))
            secret_values.append(ctx.secrets[secret.id].read_bytes().strip())
    proc = run_in_tree(tree, ["/bin/sh", "-c", step.command], env=env, writable=True, share_net=True, binds=binds)
    if proc.returncode != 0:
        text = (proc.stdout + proc.stderr).decode(errors="replace")
        for value in secret_values:
            if value:
                text = text.replace(value.decode(errors="replace"), "**********")
        tail = "\n".join(text.splitlines()[-_TAIL_LINES:])
        raise StoreError(f"build.run[{step.index}] failed (exit {proc.returncode}): {step.command}\n{tail}",
                         where="cog.yaml", fix="fix the command; it runs with /bin/sh -c in the build sandbox")


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


def _out(rel: str, excluded: tuple[str, ...]) -> bool:
    """Excluded prefixes name a directory ("run/secrets/") or a file: the directory itself is out too."""
    return rel.startswith(excluded) or rel + "/" in excluded


def _changed(before: dict[str, tuple], after: dict[str, tuple], excluded: tuple[str, ...]) -> list[str]:
    return sorted(rel for rel in after if before.get(rel) != after[rel] and not _out(rel, excluded))


def _removed(before: dict[str, tuple], after: dict[str, tuple], excluded: tuple[str, ...] = _SCRATCH) -> list[str]:
    """Paths the commands deleted, topmost only (a removed directory hides all it held)."""
    gone = sorted(rel for rel in before if rel not in after and not _out(rel, excluded))
    top: list[str] = []
    for rel in gone:
        if not any(rel.startswith(t + "/") for t in top):
            top.append(rel)
    return top


def _drop_bytecode(tree: Path, before: dict[str, tuple]) -> None:
    """.pyc files a step wrote (they embed source mtimes): removed, with the __pycache__ directories made for them."""
    for dirpath, dirs, files in os.walk(tree, topdown=False):
        rel_dir = os.path.relpath(dirpath, tree)
        for name in files:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if name.endswith((".pyc", ".pyo")) and rel not in before:
                os.unlink(os.path.join(dirpath, name))
        if os.path.basename(dirpath) == "__pycache__" and rel_dir not in before and not os.listdir(dirpath):
            os.rmdir(dirpath)


def _excluded(steps: list[Step]) -> tuple[str, ...]:
    mounts = [m.target.lstrip("/") + "/" for s in steps for m in (*s.caches, *s.secrets)]
    return (*_SCRATCH, *mounts)


def _describe(tree: Path, rel: str) -> str:
    full = tree / rel
    st = os.lstat(full)
    if stat.S_ISLNK(st.st_mode):
        return f"l:{os.readlink(full)}"
    if stat.S_ISDIR(st.st_mode):
        return "d"
    h = hashlib.sha256()
    with open(full, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return f"{'x' if st.st_mode & 0o111 else 'f'}:{h.hexdigest()}"


def _record(tree: Path, step: Step, before: dict[str, tuple], after: dict[str, tuple], inputs: str) -> RunRecord:
    excluded = _excluded([step])
    files = {rel: _describe(tree, rel) for rel in _changed(before, after, excluded)}
    files |= {rel: "w" for rel in _removed(before, after, excluded)}
    files = dict(sorted(files.items()))
    digest = hashlib.sha256(json.dumps(files, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return RunRecord(inputs=inputs, digest=digest, files=files)


def _write_layer(tree: Path, original: dict[str, tuple], final: dict[str, tuple], out: Path,
                 steps: list[Step]) -> None:
    excluded = _excluded(steps)
    for rel in _removed(original, final, excluded):
        # OCI whiteout: an empty `.wh.<name>` hides what lower layers have at that path.
        marker = out / os.path.dirname(rel) / f"{WHITEOUT}{os.path.basename(rel)}"
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_bytes(b"")
    for rel in _changed(original, final, excluded):
        src, dst = tree / rel, out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        elif src.is_dir():
            dst.mkdir(exist_ok=True)
        else:
            shutil.copy2(src, dst)


def check_records(lock: Lock, records: list[RunRecord], commands: list[str], *,
                  update: bool = False) -> list[RunRecord] | None:
    """None when the lock's records say the same; the records to write when the lock has none for these inputs (or
    `update`); a StoreError naming the step and the first paths when it has, and they differ."""
    if update:
        return records if records != lock.run_records else None
    known = {r.inputs: r for r in lock.run_records}
    new = False
    for index, record in enumerate(records):
        old = known.get(record.inputs)
        if old is None:
            new = True
            continue
        if old.digest != record.digest:
            paths = sorted(p for p in set(old.files) | set(record.files) if old.files.get(p) != record.files.get(p))
            shown = ", ".join("/" + p for p in paths[:8]) + (f" and {len(paths) - 8} more" if len(paths) > 8 else "")
            raise StoreError(
                f"build.run[{index}] wrote something else than when it was first built ({shown}): "
                f"{commands[index]}",
                where="lock.json: cognix.run_records",
                fix="make the step reproducible (pin what it downloads or installs), or accept the new result with "
                    "`cognix build --update-run-digests`")
    return records if new else None


__all__ = ["RunContext", "check_records", "parse_secrets", "parse_steps", "run_entry"]
