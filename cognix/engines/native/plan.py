"""From store entries to an ImagePlan: layer order, layer merging, and the image config."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cognix import __version__, jsontext
from cognix.runtime.schema import SCHEMA_VERSION as COG_VERSION  # the Cog release the runtime answers as
from cognix.image.plan import Entry, ImageConfig, ImagePlan, Layer
from cognix.store.system import USER

# Kinds in the order their layers go into the image: least changing first, the model's source last.
KIND_ORDER = ["deb", "python", "system", "wheel", "runtime", "run", "weights", "src"]
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Planned:
    kind: str  # one of KIND_ORDER
    entry: Entry


def closure(by_name: dict[str, Entry], start: str) -> set[str]:
    """Names of the entries `start` needs, transitively, itself included (unknown references ignored)."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        name = stack.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        stack.extend(by_name[name].references)
    return seen


def popularity(entries: Iterable[Entry]) -> dict[str, int]:
    """How many entries have each entry in their closure (itself included): nixpkgs' popularity contest."""
    by_name = {e.name: e for e in entries}
    counts = dict.fromkeys(by_name, 0)
    for start in by_name:
        for name in closure(by_name, start):
            counts[name] += 1
    return counts


def order_entries(planned: list[Planned]) -> list[Planned]:
    """Kind order, then most popular first within a kind, then name; weights keep the order they were given."""
    pop = popularity(p.entry for p in planned)
    position = {id(p): i for i, p in enumerate(planned)}

    def key(p: Planned) -> tuple:
        if p.kind == "weights":
            return (KIND_ORDER.index(p.kind), 0, "", position[id(p)])
        return (KIND_ORDER.index(p.kind), -pop[p.entry.name], p.entry.name, 0)

    return sorted(planned, key=key)


def _layer_size(layer: Layer) -> int:
    return sum(e.size for e in layer.entries)


def _has_run(layer: Layer) -> bool:
    return any(e.name == "run" for e in layer.entries)


def merge_layers(layers: list[Layer], max_layers: int) -> list[Layer]:
    """Merge the adjacent pair with the smallest combined size until at most max_layers remain.

    The last layer (the model's source, which changes on every edit) is never merged, so a rebuild changes one layer.
    Neither is the build.run layer: its OCI whiteouts only hide what lower layers hold, never files of its own layer.
    """
    if max_layers < 2:
        raise ValueError("max_layers must be at least 2")
    layers = list(layers)
    while len(layers) > max_layers:
        # pairs (i, i+1) among all but the last layer, the run layer in neither
        candidates = [k for k in range(len(layers) - 2) if not (_has_run(layers[k]) or _has_run(layers[k + 1]))]
        if not candidates:
            break
        i = min(candidates, key=lambda k: (_layer_size(layers[k]) + _layer_size(layers[k + 1]), k))
        a, b = layers[i], layers[i + 1]
        layers[i : i + 2] = [Layer(entries=a.entries + b.entries, comment=f"{a.comment} + {b.comment}")]
    return layers


def plan_layers(planned: list[Planned], max_layers: int = 100) -> list[Layer]:
    layers = [Layer(entries=[p.entry], comment=p.entry.name) for p in order_entries(planned)]
    return merge_layers(layers, max_layers)



def image_env(config, *, gpu_lib_dirs: list[str] = ()) -> list[str]:
    env: dict[str, str] = {"PATH": DEFAULT_PATH, "PYTHONUNBUFFERED": "1", "LANG": "C.UTF-8"}
    if config.build.gpu:
        env["NVIDIA_DRIVER_CAPABILITIES"] = "all"
        env["NVIDIA_VISIBLE_DEVICES"] = "all"
        env["LD_LIBRARY_PATH"] = ":".join(["/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", *gpu_lib_dirs])
    env.update(config.runtime_env())
    return [f"{k}={env[k]}" for k in sorted(env)]


def image_config(
    config,
    *,
    title: str,
    schema: dict | None,
    revision: str | None,
    created: str,
    root_user: bool = False,
    gpu_lib_dirs: list[str] = (),
    pip_freeze: str = "",
    cuda: str | None = None,
    cudnn: str | None = None,
) -> ImageConfig:
    """The image config and Cog's labels as Cog's builder writes them (pkg/image/build.go): run.cog.version is the
    Cog release the runtime answers as (cognix's own version has a label of its own), run.cog.config is completed
    as Cog completes it (a GPU model's CUDA and cuDNN), run.cog.pip_freeze lists the image's Python packages."""
    labels = {
        "run.cog.config": jsontext.compact(cog_config_label(config, cuda=cuda, cudnn=cudnn)),
        "run.cog.version": COG_VERSION,
        "run.cognix.version": __version__,
        "run.cog.has_init": "true",
        "org.opencontainers.image.title": title,
        "org.opencontainers.image.created": created,
    }
    if schema is not None:
        labels["run.cog.openapi_schema"] = jsontext.compact(schema)
    if pip_freeze:
        labels["run.cog.pip_freeze"] = pip_freeze
    if revision:
        labels["org.opencontainers.image.revision"] = revision
    return ImageConfig(
        entrypoint=["/usr/bin/tini", "--"],
        cmd=["python", "-m", "cognix.runtime"],
        env=image_env(config, gpu_lib_dirs=list(gpu_lib_dirs)),
        working_dir="/src",
        user="" if root_user else USER,
        exposed_ports=["5000/tcp"],
        labels=dict(sorted(labels.items())),
    )


def cog_config_label(config, *, cuda: str | None, cudnn: str | None) -> dict:
    """cog.yaml as Cog's run.cog.config label has it: for a GPU model, build.cuda and build.cudnn filled in (from
    the lock's torch when cog.yaml leaves them out)."""
    data = config.cog_json()
    if not config.build.gpu:
        return data
    build = dict(data.get("build", {}))
    for key, value in (("cuda", cuda), ("cudnn", cudnn)):
        if value and key not in build:
            build[key] = value
    return {**data, "build": build}


def pip_freeze(dists: list[tuple[str, str]]) -> str:
    """`pip freeze`'s lines for (name as its metadata spells it, version) pairs: name==version, sorted as pip does."""
    return "\n".join(f"{name}=={version}" for name, version in sorted(dists, key=lambda d: d[0].lower()))


def repo_tag(name: str, image: str | None, config: ImageConfig, layers: list[Layer]) -> str:
    """cog.yaml's `image:` when set, else cognix-<dir>:<short hash of config and layer contents>."""
    if image:
        return image if ":" in image.rsplit("/", 1)[-1] else f"{image}:latest"
    digest = hashlib.sha256(config.model_dump_json().encode())
    for layer in layers:
        for entry in layer.entries:
            digest.update(f"{entry.name} {entry.digest}\n".encode())
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in name.lower()).strip("-._") or "model"
    return f"cognix-{safe}:{digest.hexdigest()[:12]}"


def make_plan(
    planned: list[Planned],
    config: ImageConfig,
    *,
    name: str,
    image: str | None,
    max_layers: int = 100,
    created: str = "1970-01-01T00:00:01Z",
) -> ImagePlan:
    layers = plan_layers(planned, max_layers)
    return ImagePlan(layers=layers, config=config, repo_tag=repo_tag(name, image, config, layers), created=created)
