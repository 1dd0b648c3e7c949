"""lock_model / write_lock / load_lock: make lock.json, write it byte-deterministically, and refuse stale ones."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import cognix
from cognix.errors import LockError
from cognix.fileio import write_atomic
from cognix.lock.debian import base_packages, resolve_debs, run_step_packages
from cognix.lock.gpu import gpu_versions
from cognix.lock.index import choose_index
from cognix.lock.inputs import input_hash
from cognix.lock.model import LOCK_FORMAT_VERSION, Deb, Lock, LockOptions, Runtime, Target, WeightSet
from cognix.lock.python import resolve_wheels, split_options
from cognix.lock.runtime_pin import runtime_digest
from cognix.lock.standalone import lock_standalone
from cognix.lock.target import make_target, python_source_for
from cognix.progress import Progress, Silent

LOCK_FILE = "lock.json"
REFRESH = "run `cognix lock` to refresh it"


def runtime_requirements() -> list[str]:
    """The runtime's own requirement lines (cognix/runtime/requirements.txt), shipped in every image."""
    text = resources.files("cognix.runtime").joinpath("requirements.txt").read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def lock_options(model_dir: Path, python_source: str | None = None) -> LockOptions:
    """This lock's options: those given now, else the ones the existing lock.json was made with."""
    previous = _previous_lock(model_dir)
    options = previous.options if previous is not None else LockOptions()
    if python_source is not None:
        options = options.model_copy(update={"python_source": python_source})
    return options


def lock_model(model_dir: Path, *, index_url: str | None = None, mirror: str | None = None,
               python_source: str | None = None, python_mirror: str | None = None,
               progress: Progress | None = None, config: Any = None) -> Lock:
    """Resolve everything the image needs for the model in `model_dir` and return the Lock (not written).

    python_source: "auto" (Debian's interpreter where a suite ships it, else python-build-standalone), "debian"
    or "standalone"; None keeps the existing lock's choice. python_mirror: python-build-standalone's mirror.
    """
    from cognix.config import load_config, requirements_of

    model_dir = Path(model_dir)
    progress = progress or Silent()
    config = config if config is not None else load_config(model_dir)
    build = config.build
    options = lock_options(model_dir, python_source)
    source = python_source_for(build.python_minor, options.python_source)
    target = make_target(build.python_minor, python_source=source, gpu=build.gpu)
    python = lock_standalone(target.python_version, mirror=python_mirror, progress=progress) \
        if source == "standalone" else None

    reqs = requirements_of(model_dir, config)
    model = split_options(list(reqs.lines))
    runtime = split_options(runtime_requirements())
    index = choose_index(option=index_url, model_index=model.index_url or reqs.index_url,
                         model_extras=list(reqs.extra_index_urls) + model.extra_index_urls)
    resolution = resolve_wheels(model.lines, runtime.lines, target, index,
                                find_links=list(reqs.find_links) + model.find_links,
                                options=list(reqs.options), progress=progress)
    cuda, cudnn = gpu_versions(resolution.wheels, gpu=build.gpu, cuda=build.cuda, cudnn=build.cudnn)
    target = target.model_copy(update={"cuda": cuda, "cudnn": cudnn})

    system_packages = list(build.system_packages) + run_step_packages(bool(build.all_run_steps))
    debs, deb_mirror = _resolve_debs(target, system_packages, mirror=mirror, progress=progress)
    weights = _lock_weights(config, model_dir, progress) if config.weights else []

    return Lock(
        format=LOCK_FORMAT_VERSION,
        input_hash=input_hash(config, model_dir, options),
        target=target,
        config=config.cog_json(),
        wheels=sorted(resolution.wheels, key=lambda w: w.name),
        debs=sorted(debs, key=lambda d: (d.package, d.architecture)),
        weights=weights,
        runtime=Runtime(version=cognix.__version__, sha256=runtime_digest()),
        python=python,
        options=options,
        index_urls=resolution.index_urls,
        mirror=deb_mirror,
    )


def _resolve_debs(target: Target, system_packages: list[str], *, mirror: str | None,
                  progress: Progress) -> tuple[list[Deb], str | None]:
    """The Debian base (interpreter or not) and system packages; none when the target has no Debian base."""
    if target.debian_suite is None:
        return [], None
    base = base_packages(target.python_version, standalone=target.python_source == "standalone")
    packages = sorted(set(base) | set(system_packages))
    result = resolve_debs(target.debian_suite, packages, mirror=mirror, progress=progress)
    return list(result.debs), result.mirror


def _lock_weights(config: Any, model_dir: Path, progress: Progress) -> list[WeightSet]:
    # Weights are hashed by cognix.weights, the one module that talks to GCS and weight hosts.
    from cognix.weights.lock import lock_weights

    return list(lock_weights(config, model_dir, _previous_lock(model_dir), progress))


def _previous_lock(model_dir: Path) -> Lock | None:
    """The existing lock.json even if stale (weights reuse its hashes), or None."""
    try:
        data = json.loads((model_dir / LOCK_FILE).read_text(encoding="utf-8"))
        return Lock.model_validate(data["cognix"])
    except (OSError, ValueError, KeyError, TypeError, ValidationError):
        return None


def fetch_pip_metadata(lock: Lock) -> dict[str, Any]:
    """dream2nix's pip-module lock section: sources and the default target's dependency lists."""
    return {
        "sources": {
            w.name: {"type": "url", "url": w.url, "sha256": w.sha256, "version": w.version,
                     "is_direct": w.is_direct}
            for w in lock.wheels
        },
        "targets": {"default": {w.name: sorted(w.dependencies) for w in lock.wheels}},
    }


def lock_bytes(lock: Lock) -> bytes:
    """The exact bytes of lock.json: sorted keys, 2-space indent, trailing newline; no timestamps."""
    doc = {
        "cognix": lock.model_dump(mode="json"),
        "fetchPipMetadata": fetch_pip_metadata(lock),
        "invalidationHash": lock.input_hash,
    }
    return (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_lock(model_dir: Path, lock: Lock) -> Path:
    """Write lock.json next to cog.yaml atomically (temp file + rename); returns its path."""
    path = Path(model_dir) / LOCK_FILE
    try:
        write_atomic(path, lock_bytes(lock))
    except OSError as err:
        raise LockError(f"cannot write {path}: {err.strerror or err}", fix="check the directory's permissions and free space") from None
    return path


def read_lock(model_dir: Path) -> Lock:
    """lock.json parsed and validated, without the staleness check."""
    path = Path(model_dir) / LOCK_FILE
    if not path.is_file():
        raise LockError(f"no {LOCK_FILE} in {model_dir}", fix="run `cognix lock` to create it")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        lock = Lock.model_validate(data["cognix"])
        declared = data["invalidationHash"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise LockError(f"{LOCK_FILE} is malformed ({detail})", where=str(path), fix=REFRESH) from None
    if lock.format != LOCK_FORMAT_VERSION:
        raise LockError(f"{LOCK_FILE} has format {lock.format}, this cognix reads {LOCK_FORMAT_VERSION}",
                        where=str(path), fix=REFRESH)
    if declared != lock.input_hash:
        raise LockError(f"{LOCK_FILE} is malformed (invalidationHash differs from cognix.input_hash)",
                        where=str(path), fix=REFRESH)
    return lock


def staleness(lock: Lock, config: Any, model_dir: Path) -> str | None:
    """Why the lock no longer matches the model (or cognix's runtime), or None when it is fresh."""
    if lock.input_hash != input_hash(config, model_dir, lock.options):
        return "cog.yaml/requirements changed since it was made"
    if lock.runtime is None or lock.runtime.sha256 != runtime_digest():
        return "cognix's runtime changed since it was made"
    return None


def load_lock(model_dir: Path, config: Any) -> Lock:
    """The model's lock; LockError when missing, malformed or stale (saying `cognix lock` refreshes it)."""
    lock = read_lock(model_dir)
    reason = staleness(lock, config, model_dir)
    if reason:
        raise LockError(f"{LOCK_FILE} is stale: {reason}; {REFRESH}")
    return lock


def ensure_lock(model_dir: Path, config: Any, *, frozen: str | None = None, progress: Progress | None = None,
                **lock_options: Any) -> tuple[Lock, str | None]:
    """The model's fresh lock, and why it had to be made now (None when lock.json was already fresh).

    A missing or stale lock.json is locked first, as `cargo build` and `uv run` do; `frozen` (the option that
    forbids locking, e.g. "--frozen") refuses instead.
    A malformed one is never replaced silently (read_lock's LockError).
    """
    model_dir = Path(model_dir)
    if (model_dir / LOCK_FILE).is_file():
        lock = read_lock(model_dir)
        reason = staleness(lock, config, model_dir)
        if reason is None:
            return lock, None
        reason = f"{LOCK_FILE} is stale ({reason})"
    else:
        reason = f"there is no {LOCK_FILE}"
    if frozen:
        raise LockError(f"{reason}, and {frozen} forbids locking", where=str(model_dir),
                        fix=f"run `cognix lock` (and commit lock.json), or build without {frozen}")
    lock = lock_model(model_dir, progress=progress, config=config, **lock_options)
    write_lock(model_dir, lock)
    return lock, reason
