"""The native engine: cog.yaml + lock.json -> store entries -> ImagePlan -> ./result, with no Docker and no Nix."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cognix.engines.native import entries as E
from cognix.engines.native.plan import Planned, image_config, image_env, make_plan, pip_freeze
from cognix.engines.native.sdists import built_wheels
from cognix.engines.native.steps import generate_schema, run_commands_entry
from cognix.errors import CognixError, LockError
from cognix.image.plan import ImagePlan
from cognix.progress import Progress, Silent
from cognix.store.system import UID
from cognix.weights.layers import source_exclusions, weight_trees
from cognix.weights.manifest import MANIFEST_PATH, manifest_bytes, manifest_for

SOURCE_DATE_EPOCH = "1970-01-01T00:00:01Z"


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
) -> ImagePlan:
    """Fetch and unpack every input of the lock into the store and return the image plan."""
    model_dir = model_dir.resolve()
    progress = progress or Silent()
    config, lock = _load(model_dir)
    # before any download: raises WeightsError while runtime-mode weights have no recorded location
    manifest = manifest_for(lock)
    extra = {MANIFEST_PATH: manifest_bytes(manifest)} if manifest is not None else {}
    files = E.fetch_all(lock, offline=offline, snapshot_url=snapshot_url, progress=progress)
    lock, built = built_wheels(lock, offline=offline, progress=progress)  # wheels built from sdists
    files |= built
    debs = E.deb_entries(lock.debs, files)
    python = [e for e in [E.python_entry(lock, files)] if e is not None]
    wheels = E.wheel_entries(lock.wheels, lock.target.layout(), files)
    system = E.system_entry(lock, debs)
    base = [*debs, *python, system, *wheels, E.runtime_entry(lock)]
    owner = 0 if root_user else UID  # the image's user owns /src and its HOME
    planned = [Planned("deb", e) for e in debs] + [Planned("python", e) for e in python] + [Planned("system", system)]
    planned.append(Planned("system", E.home_entry(owner)))
    planned += [Planned("wheel", e) for e in wheels] + [Planned("runtime", base[-1])]
    gpu_dirs = E.gpu_lib_dirs(lock) if config.build.gpu else []
    env = image_env(config, gpu_lib_dirs=gpu_dirs)
    if config.build.all_run_steps:  # pre_install (deprecated) runs too, after run, as in Cog
        run = run_commands_entry(base, config.build.all_run_steps, env)
        base.append(run)
        planned.append(Planned("run", run))
    # build-mode weights: one layer per entry (in weight_trees' order), between the run layer and /src
    planned += [Planned("weights", e) for e in weight_trees(lock, model_dir, progress=progress)]
    excluded = set(source_exclusions(lock))  # weights files arrive through their own layers or at start
    src_files = [f for f in E.source_files(model_dir) if f not in excluded]
    schema = generate_schema(base, model_dir, src_files, env, E.source_digest(model_dir, src_files),
                             python=lock.target.layout().executable)
    planned.append(Planned("src", E.source_entry(model_dir, src_files, schema, extra=extra, owner=owner)))

    freeze = pip_freeze(E.installed_dists(wheels, lock.target.layout()))
    image = image_config(config, title=model_dir.name, schema=json.loads(schema), revision=git_revision(model_dir),
                         pip_freeze=freeze, cuda=lock.target.cuda, cudnn=lock.target.cudnn,
                         created=SOURCE_DATE_EPOCH, root_user=root_user, gpu_lib_dirs=gpu_dirs)
    return make_plan(planned, image, name=model_dir.name, image=config.image, max_layers=max_layers,
                     created=SOURCE_DATE_EPOCH)


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
) -> BuildResult:
    """Build the model's image: ./result (atomically replaced) and, when asked, an OCI layout directory."""
    from cognix.image.archive import image_id_of, write_oci_layout
    from cognix.image.result import write_result
    from cognix.store.cache import cache_dir, disk_errors

    # ./result and the OCI layout are written last, each atomically: any failure before leaves the old ones.
    with disk_errors("building the image", cache_dir()):
        plan = plan_model(model_dir, offline=offline, root_user=root_user, max_layers=max_layers,
                          snapshot_url=snapshot_url, progress=progress)
        image_id = image_id_of(plan)  # hashes each layer once; later builds reuse the cached digests
    result_path = write_result(plan, out if out is not None else model_dir / "result")
    if oci_layout is not None:
        write_oci_layout(plan, oci_layout, progress=progress)
    return BuildResult(plan=plan, result_path=result_path, image_id=image_id)
