"""The image spec: every image policy decision, computed once, for both engines.

From the lock's cog config, the runtime version, the layer candidates (names or store paths, with their sizes, in
image order) and a few build facts (title, revision, user, created, extra environment, schema), spec_for() computes:

    {"format": 1,
     "created": "1970-01-01T00:00:01Z",
     "config": {"Entrypoint": [...], "Cmd": [...], "Env": ["NAME=value", ...], "WorkingDir": "/src",
                "User": "cog", "ExposedPorts": {"5000/tcp": {}}, "Labels": {...}},
     "layers": [{"paths": [...], "size": N, "comment": "a + b"}, ...],   # store layers, bottom first
     "system": {"files": [{"path": "etc/passwd", "text": "...", "mode": "0644", "owner": 0}, ...],
                "dirs": [{"path": "tmp", "mode": "1777", "owner": 0}, ...]},
     "weights": {"groups": [{"name": ..., "paths": [...]}], "manifest": {...} | null,
                 "manifest_text": "..." | null, "source_exclusions": [...]}}

The model's source layer (/src) always comes last, after `layers`, and counts against max_layers. The native engine
builds its plan from it (cognix.engines.native.plan); the Nix engine gets it from `cognix image-spec` at build time.
Serialise with spec_json() (cognix.jsontext): the same bytes for the same inputs, UTF-8 kept as UTF-8.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from cognix import jsontext

SPEC_FORMAT = 1

USER = "cog"
UID = 1000
HOME = "/home/cog"
WEIGHTS_CACHE = "/var/cache/cognix"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_CREATED = "1970-01-01T00:00:01Z"
TINI = "/usr/bin/tini"
GPU_DRIVER_DIRS = ("/usr/local/nvidia/lib64", "/usr/local/nvidia/lib")

PASSWD = f"""root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
{USER}:x:{UID}:{UID}:{USER}:{HOME}:/bin/sh
"""
GROUP = f"""root:x:0:
nogroup:x:65534:
{USER}:x:{UID}:
"""
NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n"
LD_SO_CONF = "include /etc/ld.so.conf.d/*.conf\n"


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class CogSettings:
    """What the spec reads of cog.yaml: from the lock's `config` (CogConfig.cog_json()) or a CogConfig."""

    config: dict  # the effective cog.yaml, as run.cog.config has it (before CUDA/cuDNN are filled in)
    gpu: bool = False
    environment: tuple[tuple[str, str], ...] = ()  # cog.yaml's environment, NAME -> value
    predict: str | None = None
    train: str | None = None
    concurrency: int | None = None

    @classmethod
    def from_lock_config(cls, data: dict) -> CogSettings:
        from cognix.errors import LockError

        items = data.get("environment", [])
        if bad := [item for item in items if not isinstance(item, str) or "=" not in item]:
            raise LockError(f"lock.json's config.environment entry {bad[0]!r} is not NAME=value",
                            fix="run `cognix lock` to write it again")
        env = tuple(sorted(dict(sorted(item.split("=", 1) for item in items)).items()))  # as CogConfig.environment_map
        return cls(config=data, gpu=bool(data.get("build", {}).get("gpu", False)), environment=env,
                   predict=data.get("predict"), train=data.get("train"),
                   concurrency=(data.get("concurrency") or {}).get("max"))

    @classmethod
    def from_config(cls, config) -> CogSettings:  # a cognix.config.CogConfig
        return cls(config=config.cog_json(), gpu=config.build.gpu, environment=tuple(config.environment_map().items()),
                   predict=config.predict, train=config.train,
                   concurrency=config.concurrency.max if config.concurrency else None)

    def runtime_env(self) -> dict[str, str]:
        """environment, then the runner references and concurrency (set after it, as Cog's Dockerfile does)."""
        env = dict(self.environment)
        if self.predict:
            env["COG_PREDICT_TYPE_STUB"] = self.predict
        if self.train:
            env["COG_TRAIN_TYPE_STUB"] = self.train
        if self.concurrency is not None:
            env["COG_MAX_CONCURRENCY"] = str(self.concurrency)
        return dict(sorted(env.items()))


@dataclass(frozen=True)
class Candidate:
    """One layer candidate: an entry name (native) or a store path (Nix) and its size in bytes."""

    path: str
    size: int
    alone: bool = False  # never merged with a neighbour (the build.run layer: its whiteouts hide lower layers only)


@dataclass(frozen=True)
class SpecInputs:
    cog: CogSettings
    runtime_version: str  # run.cog.version: the Cog release the runtime answers as (cognix.runtime.schema)
    title: str
    candidates: tuple[Candidate, ...] = ()  # image order, bottom first; the source layer excluded
    max_layers: int = 100  # store layers + the source layer
    created: str = DEFAULT_CREATED
    revision: str | None = None
    user: str = USER  # "" (or "root"): the image runs as root, which then owns HOME
    environment: tuple[tuple[str, str], ...] = ()  # extra NAME=value, wins over everything
    gpu_lib_dirs: tuple[str, ...] = ()  # after the driver's directories in LD_LIBRARY_PATH
    tini: str = TINI
    schema: dict | None = None  # the OpenAPI schema: run.cog.openapi_schema
    pip_freeze: str = ""
    cuda: str | None = None  # the lock's target.cuda / cudnn: completes run.cog.config for a GPU model
    cudnn: str | None = None
    weights: WeightsSpec | None = None


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True)
class LayerGroup:
    paths: tuple[str, ...]
    size: int
    comment: str


@dataclass(frozen=True)
class SystemFile:
    path: str  # relative to the image root
    text: str
    mode: str = "0644"
    owner: int = 0


@dataclass(frozen=True)
class SystemDir:
    path: str
    mode: str = "0755"
    owner: int = 0


@dataclass(frozen=True)
class SystemSpec:
    files: tuple[SystemFile, ...]
    dirs: tuple[SystemDir, ...]


@dataclass(frozen=True)
class WeightGroup:
    name: str
    paths: tuple[str, ...]  # absolute image paths


@dataclass(frozen=True)
class WeightsSpec:
    groups: tuple[WeightGroup, ...] = ()
    manifest: dict | None = None  # cognix.weights.manifest format, or None without runtime-mode weights
    manifest_text: str | None = None  # /src/.cog/weights.json's bytes (manifest_bytes: jsontext.pretty)
    source_exclusions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageSpec:
    created: str
    config: dict
    layers: tuple[LayerGroup, ...]
    system: SystemSpec
    weights: WeightsSpec
    format: int = SPEC_FORMAT

    def to_json(self) -> dict:
        """Plain JSON data (lists, not tuples), as spec_json() writes it."""
        return json.loads(jsontext.compact(asdict(self)))


# ---------------------------------------------------------------- policy


def group_layers(candidates: list[Candidate] | tuple[Candidate, ...], limit: int) -> list[LayerGroup]:
    """One group per candidate; while more than `limit`, merge the adjacent pair with the smallest combined size
    (the first such pair on ties), never a candidate marked `alone`. Big paths stay alone, small ones are glued to
    their neighbours (original cognix's coalesce-layers.py)."""
    if limit < 1:
        raise ValueError("max_layers must be at least 2 (store layers + the source layer)")
    groups = [(c.alone, LayerGroup(paths=(c.path,), size=c.size, comment=c.path)) for c in candidates]
    while len(groups) > limit:
        pairs = [k for k in range(len(groups) - 1) if not (groups[k][0] or groups[k + 1][0])]
        if not pairs:
            break
        i = min(pairs, key=lambda k: (groups[k][1].size + groups[k + 1][1].size, k))
        a, b = groups[i][1], groups[i + 1][1]
        groups[i : i + 2] = [(False, LayerGroup(paths=a.paths + b.paths, size=a.size + b.size,
                                                comment=f"{a.comment} + {b.comment}"))]
    return [g for _, g in groups]


def image_env(cog: CogSettings, *, gpu_lib_dirs: tuple[str, ...] | list[str] = (),
              environment: tuple[tuple[str, str], ...] = ()) -> list[str]:
    env: dict[str, str] = {"PATH": DEFAULT_PATH, "PYTHONUNBUFFERED": "1", "LANG": "C.UTF-8"}
    if cog.gpu:
        env["NVIDIA_DRIVER_CAPABILITIES"] = "all"
        env["NVIDIA_VISIBLE_DEVICES"] = "all"
        env["LD_LIBRARY_PATH"] = ":".join([*GPU_DRIVER_DIRS, *gpu_lib_dirs])
    env.update(cog.runtime_env())
    env.update(dict(environment))
    return [f"{k}={env[k]}" for k in sorted(env)]


def cog_config_label(cog: CogSettings, *, cuda: str | None, cudnn: str | None) -> dict:
    """cog.yaml as Cog's run.cog.config label has it: for a GPU model, build.cuda and build.cudnn filled in."""
    data = cog.config
    if not cog.gpu:
        return data
    build = dict(data.get("build", {}))
    for key, value in (("cuda", cuda), ("cudnn", cudnn)):
        if value and key not in build:
            build[key] = value
    return {**data, "build": build}


def labels(inputs: SpecInputs) -> dict[str, str]:
    from cognix import __version__

    out = {
        "run.cog.config": jsontext.compact(cog_config_label(inputs.cog, cuda=inputs.cuda, cudnn=inputs.cudnn)),
        "run.cog.version": inputs.runtime_version,
        "run.cognix.version": __version__,
        "run.cog.has_init": "true",
        "org.opencontainers.image.title": inputs.title,
        "org.opencontainers.image.created": inputs.created,
    }
    if inputs.schema is not None:
        out["run.cog.openapi_schema"] = jsontext.compact(inputs.schema)
    if inputs.pip_freeze:
        out["run.cog.pip_freeze"] = inputs.pip_freeze
    if inputs.revision:
        out["org.opencontainers.image.revision"] = inputs.revision
    return dict(sorted(out.items()))


def image_config(inputs: SpecInputs) -> dict:
    """The OCI image config, as Docker's JSON has it."""
    return {
        "Entrypoint": [inputs.tini, "--"],
        "Cmd": ["python", "-m", "cognix.runtime"],
        "Env": image_env(inputs.cog, gpu_lib_dirs=inputs.gpu_lib_dirs, environment=inputs.environment),
        "WorkingDir": "/src",
        "User": inputs.user,
        "ExposedPorts": {"5000/tcp": {}},
        "Labels": labels(inputs),
    }


def user_uid(user: str) -> int:
    return 0 if user in ("", "root") else UID


def system_spec(user: str = USER) -> SystemSpec:
    """/etc's users, groups and name lookup, the world-writable directories, root's home and the user's HOME."""
    files = (
        SystemFile("etc/passwd", PASSWD),
        SystemFile("etc/group", GROUP),
        SystemFile("etc/nsswitch.conf", NSSWITCH),
        SystemFile("etc/ld.so.conf", LD_SO_CONF),
    )
    owner = user_uid(user)
    dirs = (
        SystemDir("tmp", "1777"),
        SystemDir("var/tmp", "1777"),
        SystemDir(WEIGHTS_CACHE.lstrip("/"), "1777"),
        SystemDir("root", "0700"),
        SystemDir(HOME.lstrip("/"), "0755", owner),
        SystemDir(f"{HOME.lstrip('/')}/.cache", "0755", owner),
    )
    return SystemSpec(files=files, dirs=dirs)


def weights_spec(weight_sets) -> WeightsSpec:
    """Build-mode weights' layer groups, the runtime manifest and the files kept out of /src (cognix.weights), for
    the lock's weights (a list of cognix.lock.model.WeightSet)."""
    from cognix.lock.model import Lock
    from cognix.weights.layers import layer_groups, source_exclusions
    from cognix.weights.manifest import manifest_bytes, manifest_for

    lock = Lock.model_construct(weights=list(weight_sets))  # the weights functions read only .weights
    groups = tuple(WeightGroup(name, tuple(p for p, _ in members)) for name, members in layer_groups(lock))
    manifest = manifest_for(lock)
    return WeightsSpec(groups=groups, manifest=manifest, source_exclusions=tuple(source_exclusions(lock)),
                       manifest_text=None if manifest is None else manifest_bytes(manifest).decode("utf-8"))


def rfc3339(epoch: int) -> str:
    """SOURCE_DATE_EPOCH as the image's `created` (nix/lib/source-date.nix's rfc3339)."""
    from datetime import datetime, timezone

    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def lock_section(path) -> dict:
    """lock.json's `cognix` section (path: the file or its directory), read as the Nix engine reads it: the JSON
    data, without the native engine's integrity checks (the flake evaluated it already)."""
    from pathlib import Path

    from cognix.errors import LockError
    from cognix.lock.lockfile import lock_document

    path = Path(path)
    lock_file = path / "lock.json" if path.is_dir() else path
    try:
        section = lock_document(lock_file.read_text(encoding="utf-8")).get("cognix")
    except (OSError, ValueError) as err:
        raise LockError(f"cannot read {lock_file}: {err}", where=str(lock_file), fix="run `cognix lock`") from None
    if not isinstance(section, dict):
        raise LockError(f"{lock_file} has no 'cognix' section", where=str(lock_file), fix="run `cognix lock`")
    return section


def inputs_from_lock(section: dict, *, candidates: list[Candidate], max_layers: int, title: str,
                     epoch: int | None = None, environment: dict[str, str] | None = None,
                     revision: str | None = None, user: str = USER, schema: dict | None = None,
                     tini: str = TINI, gpu_lib_dirs: tuple[str, ...] = ()) -> SpecInputs:
    """The spec's inputs from lock.json's `cognix` section (what the Nix engine has at build time): the cog config,
    target's CUDA/cuDNN and the weights; the store paths and sizes come as candidates."""
    from cognix.lock.model import WeightSet
    from cognix.runtime.schema import SCHEMA_VERSION as COG_VERSION

    target = section.get("target") or {}
    return SpecInputs(
        cog=CogSettings.from_lock_config(section.get("config") or {}), runtime_version=COG_VERSION, title=title,
        candidates=tuple(candidates), max_layers=max_layers,
        created=DEFAULT_CREATED if epoch is None else rfc3339(epoch), revision=revision, user=user,
        environment=tuple(sorted((environment or {}).items())), gpu_lib_dirs=tuple(gpu_lib_dirs), tini=tini,
        schema=schema, cuda=target.get("cuda"), cudnn=target.get("cudnn"),
        weights=weights_spec(WeightSet.model_validate(w) for w in section.get("weights") or []))


def candidates_from_graph(store_layers: list[list[str]], graph: list[dict]) -> list[Candidate]:
    """nixpkgs' conf.json store_layers (popularity order) flattened, each path's size its narSize in the closure's
    exportReferencesGraph (0 when absent), as original cognix's coalesce-layers.py read them."""
    sizes = {item["path"]: int(item.get("narSize", 0)) for item in graph}
    return [Candidate(path=p, size=sizes.get(p, 0)) for layer in store_layers for p in layer]


def candidates_from_json(data: list) -> list[Candidate]:
    """[{"path": ..., "size": N}] (or exportReferencesGraph's {"path", "narSize"}), in image order."""
    return [Candidate(path=item["path"], size=int(item.get("size", item.get("narSize", 0))),
                      alone=bool(item.get("alone", False))) for item in data]


def spec_for(inputs: SpecInputs) -> ImageSpec:
    return ImageSpec(
        created=inputs.created,
        config=image_config(inputs),
        layers=tuple(group_layers(inputs.candidates, inputs.max_layers - 1)),
        system=system_spec(inputs.user),
        weights=inputs.weights or WeightsSpec(),
    )


def spec_json(spec: ImageSpec) -> str:
    return jsontext.pretty(spec.to_json())
