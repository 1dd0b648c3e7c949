"""The native engine: cog.yaml + lock.json -> store entries -> ImagePlan -> ./result, with no Docker and no Nix."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cognix.engines.native import entries as E
from cognix.engines.native.plan import Planned, image_env, make_plan, pip_freeze, spec_inputs
from cognix.engines.native.sdists import built_wheels
from cognix.engines.native.run_steps import RunContext, check_records, run_entry
from cognix.engines.native.steps import generate_schema
from cognix.errors import CognixError, LockError
from cognix.image import spec
from cognix.image.plan import ImagePlan
from cognix.progress import Progress, Silent
from cognix.store.system import UID
from cognix.weights.layers import weight_trees
from cognix.weights.manifest import MANIFEST_PATH

def image_created() -> str:
    """The image's timestamp (config `created`, every file's mtime): SOURCE_DATE_EPOCH, as reproducible-builds.org
    defines it (whole seconds since 1970, UTC), else the spec's DEFAULT_CREATED."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return spec.DEFAULT_CREATED
    if not raw.isdigit() or int(raw) > 253402300799:
        raise CognixError(f"SOURCE_DATE_EPOCH={raw!r} is not a time: it must be whole seconds since 1970-01-01 UTC",
                          fix="set it to e.g. $(git log -1 --format=%ct), or unset it for 1970-01-01T00:00:01Z")
    return spec.rfc3339(int(raw))


@dataclass(frozen=True)
class BuildResult:
    plan: ImagePlan
    result_path: Path | None
    image_id: str | None


def git_revision(model_dir: Path) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(model_dir), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def _load(model_dir: Path):
    from cognix.config import load_config
    from cognix.engines.nix import nix_only_reason
    from cognix.lock import load_lock
    from cognix.lock.lockfile import LOCK_FILE, REFRESH

    # checked before cog.yaml and the lock: such a model may not even have a lock the native engine can read
    if (reason := nix_only_reason(model_dir)) is not None:
        raise CognixError(reason)
    config = load_config(model_dir)
    lock = load_lock(model_dir, config)
    if lock.target.debian_suite is None or (lock.target.python_source == "standalone") != (lock.python is not None):
        raise LockError(
            f"{LOCK_FILE} has no system base or interpreter for the native engine (python {lock.target.python_version}"
            f", source {lock.target.python_source})", where=str(model_dir / LOCK_FILE), fix=REFRESH)
    return config, lock


def plan_model(
    model_dir: Path,
    *,
    offline: bool = False,
    root_user: bool = False,
    max_layers: int = 100,
    snapshot_url: str | None = None,
    progress: Progress | None = None,
    run_context: RunContext | None = None,
) -> ImagePlan:
    """Fetch and unpack every input of the lock into the store and return the image plan."""
    model_dir = model_dir.resolve()
    progress = progress or Silent()
    config, lock = _load(model_dir)
    # the spec's weights part, once, before any download: raises WeightsError while runtime-mode weights have no
    # recorded location
    weights = spec.weights_spec(lock.weights)
    extra = {MANIFEST_PATH: weights.manifest_text.encode("utf-8")} if weights.manifest_text is not None else {}
    files = E.fetch_all(lock, offline=offline, snapshot_url=snapshot_url, progress=progress)
    lock, built = built_wheels(lock, offline=offline, progress=progress)  # wheels built from sdists
    files |= built
    debs = E.deb_entries(lock.debs, files)
    python = [e for e in [E.python_entry(lock, files)] if e is not None]
    wheels = E.wheel_entries(lock.wheels, lock.target.layout(), files)
    system = E.system_entry(lock, debs)
    created = image_created()
    postinst = E.postinst_entry(lock, [*debs, *python, system], files, created=created)
    base = [*debs, *python, system, postinst, *wheels, E.runtime_entry(lock)]
    owner = 0 if root_user else UID  # the image's user owns /src and its HOME
    planned = [Planned("deb", e) for e in debs] + [Planned("python", e) for e in python] + [Planned("system", system)]
    planned.append(Planned("system", E.home_entry(owner)))
    planned.append(Planned("system", postinst))  # alternatives, ld.so.cache, font caches
    planned += [Planned("wheel", e) for e in wheels] + [Planned("runtime", base[-1])]
    gpu_dirs = E.gpu_lib_dirs(lock) if config.build.gpu else []
    env = image_env(config, gpu_lib_dirs=gpu_dirs)
    if config.build.all_run_steps:  # pre_install (deprecated) runs too, after run, as in Cog
        run = _run_layer(model_dir, lock, config, base, env, run_context or RunContext(), offline=offline,
                         snapshot_url=snapshot_url, progress=progress)
        base.append(run)
        planned.append(Planned("run", run))
    # build-mode weights: one layer per entry (in weight_trees' order), between the run layer and /src
    planned += [Planned("weights", e) for e in weight_trees(lock, model_dir, progress=progress)]
    excluded = set(weights.source_exclusions)  # weights files arrive through their own layers or at start
    src_files = [f for f in E.source_files(model_dir) if f not in excluded]
    E.check_image(lock, [p.entry for p in planned], env)  # every ELF file finds its libraries
    # build.run steps may install anything (upstream cog too): their models' schemas come from the import
    static_ok = not config.build.all_run_steps and not any(w.name == "cog" for w in lock.wheels)
    schema = generate_schema(base, model_dir, src_files, env, E.source_digest(model_dir, src_files),
                             python=lock.target.layout().executable, python_version=lock.target.python_version,
                             locks_upstream_cog=not static_ok)
    planned.append(Planned("src", E.source_entry(model_dir, src_files, schema, extra=extra, owner=owner)))
    E.check_image(lock, [p.entry for p in planned], env, only={"src"})

    freeze = pip_freeze(E.installed_dists(wheels, lock.target.layout()))
    inputs = spec_inputs(config, title=model_dir.name, schema=json.loads(schema), revision=git_revision(model_dir),
                         pip_freeze=freeze, cuda=lock.target.cuda, cudnn=lock.target.cudnn,
                         created=created, root_user=root_user, gpu_lib_dirs=gpu_dirs,
                         weights=weights)
    # Cog names the image after `model` when `image` is unset
    return make_plan(planned, inputs, name=model_dir.name, image=config.image or config.model, max_layers=max_layers)


def _run_layer(model_dir: Path, lock, config, base: list, env: list[str], ctx: RunContext, *, offline: bool,
               snapshot_url: str | None, progress: Progress):
    """The build.run layer, its steps checked against (or recorded in) the lock's run records."""
    from cognix.lock.lockfile import read_lock, write_lock

    pins = set(lock.run_wheels)
    pip = [w for w in lock.build_wheels if f"{w.name}=={w.version}" in pins]
    tools_lock = lock.model_copy(update={"debs": lock.build_debs, "wheels": pip, "python": None})
    files = E.fetch_all(tools_lock, offline=offline, snapshot_url=snapshot_url, progress=progress)
    tools = [*E.deb_entries(lock.build_debs, files), *E.wheel_entries(pip, lock.target.layout(), files)]
    model_key = hashlib.sha256(str(model_dir).encode()).hexdigest()[:16]  # the steps' cache mounts, per model
    steps = config.build.all_run_steps
    run, records = run_entry(lock, base, tools, steps, env, model_key, ctx)
    new = check_records(lock, records, [s.command for s in steps], update=ctx.update_records)
    if new is not None:  # the first build of these steps (or asked to): what they wrote goes into lock.json
        write_lock(model_dir, read_lock(model_dir).model_copy(update={"run_records": new}))
        print(f"recorded what build.run's {len(new)} step(s) wrote in {model_dir / 'lock.json'}", file=sys.stderr)
    return run


def build(
    model_dir: Path,
    *,
    out: Path | None = None,
    oci_layout: Path | None = None,
    offline: bool = False,
    root_user: bool = False,
    max_layers: int = 100,
    snapshot_url: str | None = None,
    progress: Progress | None = None,
    run_context: RunContext | None = None,
) -> BuildResult:
    """Build the model's image: ./result (atomically replaced) and, when asked, an OCI layout directory."""
    from cognix.image.archive import image_id_of, write_oci_layout
    from cognix.image.result import write_result
    from cognix.store.cache import cache_dir, disk_errors

    # ./result and the OCI layout are written last, each atomically: any failure before leaves the old ones.
    with disk_errors("building the image", cache_dir()):
        plan = plan_model(model_dir, offline=offline, root_user=root_user, max_layers=max_layers,
                          snapshot_url=snapshot_url, progress=progress, run_context=run_context)
        image_id = image_id_of(plan)  # hashes each layer once; later builds reuse the cached digests
    result_path = write_result(plan, out if out is not None else model_dir / "result")
    if oci_layout is not None:
        write_oci_layout(plan, oci_layout, progress=progress)
    return BuildResult(plan=plan, result_path=result_path, image_id=image_id)
