"""lock_model / write_lock / load_lock: make lock.json, write it byte-deterministically, and refuse stale ones."""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import cognix
from cognix import jsontext
from cognix.lock import integrity
from cognix.errors import LockError
from cognix.fileio import write_atomic
from cognix.lock.debian import base_packages, build_only_packages, resolve_debs, setup_only
from cognix.lock.index import IndexConfig, choose_index, redact
from cognix.lock.inputs import input_hash
from cognix.lock.model import LOCK_FORMAT_VERSION, Deb, Lock, LockOptions, Runtime, Target, WeightSet
from cognix.lock.python import Resolution, resolve_wheels, split_options
from cognix.lock.runtime_pin import runtime_digest
from cognix.lock.sdk import sdk_requirements
from cognix.lock.sources import SourceBuilder, lock_sources
from cognix.lock.standalone import lock_standalone
from cognix.lock.target import make_target, python_source_for
from cognix.lock.torch import plan_torch
from cognix.progress import Progress, Silent

LOCK_FILE = "lock.json"
REFRESH = "run `cognix lock` to refresh it"


def runtime_requirements() -> list[str]:
    """The runtime's own requirement lines (cognix/runtime/requirements.txt), shipped in every image."""
    text = resources.files("cognix.runtime").joinpath("requirements.txt").read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def lock_options(model_dir: Path, **given: str | None) -> LockOptions:
    """This lock's options: those given now (python_source, python_mirror, torch_index), else the ones the existing
    lock.json was made with, so `cognix lock` again (or `cognix build` re-locking) makes the same choices."""
    previous = _previous_lock(model_dir)
    options = previous.options if previous is not None else LockOptions()
    chosen = {k: (redact(v) if k != "python_source" else v) for k, v in given.items() if v is not None}
    return options.model_copy(update=chosen)


def lock_model(model_dir: Path, *, index_url: str | None = None, mirror: str | None = None,
               python_source: str | None = None, python_mirror: str | None = None,
               progress: Progress | None = None, config: Any = None, torch_index: str | None = None,
               warnings: list[str] | None = None, builder: SourceBuilder | None = None) -> Lock:
    """Resolve everything the image needs for the model in `model_dir` and return the Lock (not written).

    python_source: "auto" (Debian's interpreter where a suite ships it, else python-build-standalone), "debian"
    or "standalone"; None keeps the existing lock's choice. python_mirror: python-build-standalone's mirror.
    torch_index: the PyTorch index base (cognix.lock.torch); warnings: a list that gets the lock's warnings.
    builder: what builds wheels from sdist-only packages (default: the native engine's sandbox).
    """
    from cognix.config import load_config

    model_dir = Path(model_dir)
    progress = progress or Silent()
    config = config if config is not None else load_config(model_dir)
    build = config.build
    options = lock_options(model_dir, python_source=python_source, python_mirror=python_mirror,
                           torch_index=torch_index)
    python_mirror, torch_index = options.python_mirror, options.torch_index
    source = python_source_for(build.python_minor, options.python_source)
    target = make_target(build.python_minor, python_source=source, gpu=build.gpu)
    system_packages = list(build.system_packages)
    run_steps = bool(build.all_run_steps)
    pool = ThreadPoolExecutor(max_workers=2)  # Debian, the interpreter and the wheels resolve at once
    try:
        # what sdist builds would need too: resolving it costs little, the Release files are fetched once
        debs_run = pool.submit(_resolve_debs, target, system_packages, sdists=True, run_steps=run_steps,
                               mirror=mirror, progress=Silent())
        python_run = pool.submit(lock_standalone, target.python_version, mirror=python_mirror) \
            if source == "standalone" else None
        wheels = _lock_wheels(model_dir, config, target, index_url=index_url, torch_index=torch_index,
                              progress=progress)
        debs, build_debs, deb_mirror = debs_run.result()
        python = python_run.result() if python_run is not None else None
    finally:  # a failure is reported now, not after the other resolutions finish
        pool.shutdown(wait=False, cancel_futures=True)
    if warnings is not None:
        warnings.extend(wheels.warnings)
    if not (wheels.resolution.sources or run_steps):
        build_debs = setup_only(build_debs)  # the image setup's ldconfig stays (cognix.engines.native.fixups)
    lock = Lock(
        format=LOCK_FORMAT_VERSION,
        input_hash=input_hash(config, model_dir, options),
        target=wheels.target,
        config=config.cog_json(),
        wheels=sorted(wheels.resolution.wheels, key=lambda w: w.name),
        debs=sorted(debs, key=lambda d: (d.package, d.architecture)),
        weights=_lock_weights(config, model_dir, progress) if config.weights else [],
        runtime=Runtime(version=cognix.__version__, sha256=runtime_digest()),
        python=python,
        options=options,
        index_urls=wheels.resolution.index_urls,
        find_links=wheels.find_links,
        mirror=deb_mirror,
        build_debs=build_debs,
    )
    if run_steps:  # pip for the steps, in the build sandbox only
        lock = _with_run_pip(lock, wheels)
    if not wheels.resolution.sources:
        return lock
    if builder is None:  # the native engine builds sdists (the Nix engine builds them itself, from the same lock)
        from cognix.engines.native.sdists import NativeBuilder

        builder = NativeBuilder(progress=progress)
    return lock_sources(lock, wheels.resolution.sources, index=wheels.index, options=wheels.options,
                        builder=builder, mirror=mirror, progress=progress)


@dataclass(frozen=True)
class _Wheels:
    resolution: Resolution
    target: Target  # with the CUDA the locked torch has
    index: IndexConfig
    options: list[str]  # the requirements' resolver options
    warnings: list[str]
    find_links: list[str]  # as recorded: without credentials


def _lock_wheels(model_dir: Path, config: Any, target: Target, *, index_url: str | None,
                 torch_index: str | None, progress: Progress) -> _Wheels:
    """The model's and the runtime's requirements resolved for the target, torch and CUDA as Cog does it."""
    from cognix.config import requirements_of

    build = config.build
    reqs = requirements_of(model_dir, config)
    model = split_options(list(reqs.lines))
    # with the packages upstream's cog SDK brings, which models import without listing (cognix.lock.sdk)
    runtime = split_options(runtime_requirements() + sdk_requirements(build.sdk_version, model.lines))
    index = choose_index(option=index_url, model_index=model.index_url or reqs.index_url,
                         model_extras=list(reqs.extra_index_urls) + model.extra_index_urls)
    torch = plan_torch(model, reqs, build, target, index=index, torch_index=torch_index)
    find_links = list(dict.fromkeys([*reqs.find_links, *model.find_links, *torch.find_links]))
    resolution = resolve_wheels(torch.lines, runtime.lines, target, index, find_links=find_links,
                                options=list(reqs.options), progress=progress)
    cuda, cudnn = torch.check(resolution.wheels)
    return _Wheels(resolution, target.model_copy(update={"cuda": cuda, "cudnn": cudnn}), index, list(reqs.options),
                   list(torch.warnings), [redact(u) for u in find_links])


def _resolve_debs(target: Target, system_packages: list[str], *, sdists: bool, run_steps: bool, mirror: str | None,
                  progress: Progress) -> tuple[list[Deb], list[Deb], str | None]:
    """The Debian base (interpreter or not) and system packages, and what building needs on top (the toolchain for
    sdists, the tools for build.run); none when the target has no Debian base."""
    if target.debian_suite is None:
        return [], [], None
    standalone = target.python_source == "standalone"
    packages = sorted(set(base_packages(target.python_version, standalone=standalone)) | set(system_packages))
    extra = build_only_packages(target.python_version, standalone=standalone, sdists=sdists, run_steps=run_steps)
    result = resolve_debs(target.debian_suite, packages, mirror=mirror, progress=progress, build_packages=extra)
    return list(result.debs), list(result.build_debs), result.mirror


def _with_run_pip(lock: Lock, wheels: _Wheels) -> Lock:
    """pip (a wheel for the target) among the build-only wheels, named in run_wheels: build.run steps call it."""
    pip = resolve_wheels(["pip"], [], lock.target, wheels.index, find_links=list(lock.find_links),
                         options=wheels.options, allow_sdists=False).wheels
    pool = {(w.name, w.version): w for w in [*lock.build_wheels, *pip]}
    return lock.model_copy(update={"build_wheels": [pool[k] for k in sorted(pool)],
                                   "run_wheels": sorted(f"{w.name}=={w.version}" for w in pip)})


def _lock_weights(config: Any, model_dir: Path, progress: Progress) -> list[WeightSet]:
    # Weights are hashed by cognix.weights, the one module that talks to GCS and weight hosts.
    from cognix.weights.lock import lock_weights

    return list(lock_weights(config, model_dir, _previous_lock(model_dir), progress))


def _previous_lock(model_dir: Path) -> Lock | None:
    """The existing lock.json even if stale (weights reuse its hashes), or None."""
    try:
        data = lock_document((model_dir / LOCK_FILE).read_text(encoding="utf-8"))
        lock = Lock.model_validate(data["cognix"])
    except (OSError, ValueError, KeyError, TypeError, ValidationError):
        return None
    # what it says is reused (options, weights' hashes) only while it is what cognix wrote
    return lock if data.get(integrity.CONTENT_KEY) == integrity.content_hash(data) else None


def fetch_pip_metadata(lock: Lock) -> dict[str, Any]:
    """dream2nix's pip-module lock section: sources and the default target's dependency lists."""
    return {
        "sources": {
            # a wheel built from an sdist: dream2nix builds it from the same sdist
            w.name: {"type": "url", "url": w.url, "sha256": w.sdist.sha256 if w.sdist else w.sha256,
                     "version": w.version, "is_direct": w.is_direct}
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
    doc[integrity.CONTENT_KEY] = integrity.content_hash(doc)
    return jsontext.pretty(doc).encode("utf-8")


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
        data = lock_document(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise _malformed(path, detail) from None
    lock = _validated(path, data)
    if data.get("invalidationHash") != lock.input_hash:
        raise _malformed(path, "invalidationHash differs from cognix.input_hash")
    if found := integrity.problems(data, lock, fetch_pip_metadata(lock)):
        raise LockError(f"{LOCK_FILE} is not as `cognix lock` wrote it: " + "; ".join(found), where=str(path),
                        fix="run `cognix lock` to write it again (edit cog.yaml or the requirements, never lock.json)")
    return lock


def _malformed(path: Path, detail: str) -> LockError:
    return LockError(f"{LOCK_FILE} is malformed ({detail})", where=str(path), fix=REFRESH)


MAX_LOCK_DEPTH = 64  # nesting; cognix writes 6 levels, and validating or hashing much deeper data recurses


def lock_document(text: str) -> dict[str, Any]:
    """lock.json's text as data, or ValueError saying where it is not the JSON cognix writes: no key twice in an
    object (JSON readers disagree on which one counts, so the Nix engine could read another value than cognix
    checked), no NaN, Infinity or lone surrogate (content_hash could not write them as JSON text), bounded nesting
    and numbers."""
    try:
        data = json.loads(text, object_pairs_hook=_once_each, parse_constant=_not_json, parse_int=_bounded_int,
                          parse_float=_finite_float)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    _check_depth(data)
    try:
        jsontext.compact(data).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate, which no UTF-8 file can") from None
    return data


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) < len(pairs):  # rare: find the key to name it
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise ValueError(f"the key {key!r} is written twice in one object")
            seen.add(key)
    return data


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _bounded_int(text: str) -> int:
    if len(text) > 100:  # int() refuses 4300 digits with advice for Python programmers; no lock holds 100
        raise ValueError(f"a number {len(text)} digits long")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: Python reads infinity, which JSON cannot write back
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _check_depth(data: Any) -> None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_LOCK_DEPTH:
            raise ValueError("nested too deeply")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children)


def _validated(path: Path, data: dict[str, Any]) -> Lock:
    """The cognix section as a Lock, its format checked first (a later format's fields would fail validation)."""
    section = data.get("cognix")
    if section is None:
        raise _malformed(path, "it has no 'cognix' section")
    version = section.get("format", LOCK_FORMAT_VERSION) if isinstance(section, dict) else LOCK_FORMAT_VERSION
    if version != LOCK_FORMAT_VERSION:
        raise LockError(f"{LOCK_FILE} has format {version!r}, this cognix reads {LOCK_FORMAT_VERSION}",
                        where=str(path), fix=REFRESH)
    try:
        return Lock.model_validate(section)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in ("cognix", *first["loc"]))
        more = f", and {err.error_count() - 1} more" if err.error_count() > 1 else ""
        raise _malformed(path, f"{where}: {first['msg']}{more}") from None


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
