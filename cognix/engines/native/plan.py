"""From store entries to an ImagePlan: layer order here; layer merging and the image config from the image spec
(cognix.image.spec), the policy both engines share."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cognix.runtime.schema import SCHEMA_VERSION as COG_VERSION  # the Cog release the runtime answers as
from cognix.image import spec
from cognix.image.plan import Entry, ImageConfig, ImagePlan, Layer

# Kinds in the order their layers go into the image: least changing first, the model's source last.
KIND_ORDER = ["deb", "python", "system", "wheel", "runtime", "run", "weights", "src"]


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


def spec_inputs(
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
    weights: spec.WeightsSpec | None = None,
) -> spec.SpecInputs:
    """The image spec's inputs for a CogConfig (the native engine reads cog.yaml; the Nix engine the lock)."""
    return spec.SpecInputs(cog=spec.CogSettings.from_config(config), runtime_version=COG_VERSION, title=title,
                           created=created, revision=revision, user="" if root_user else spec.USER,
                           gpu_lib_dirs=tuple(gpu_lib_dirs), schema=schema, pip_freeze=pip_freeze, cuda=cuda,
                           cudnn=cudnn, weights=weights)


def image_env(config, *, gpu_lib_dirs: list[str] = ()) -> list[str]:
    return spec.image_env(spec.CogSettings.from_config(config), gpu_lib_dirs=tuple(gpu_lib_dirs))


def config_of(data: dict) -> ImageConfig:
    """The spec's image config (Docker's JSON keys) as the image writer's ImageConfig."""
    return ImageConfig(entrypoint=data["Entrypoint"], cmd=data["Cmd"], env=data["Env"], working_dir=data["WorkingDir"],
                       user=data["User"], exposed_ports=sorted(data["ExposedPorts"]), labels=data["Labels"])


def image_config(config, **kwargs) -> ImageConfig:
    """The image config and Cog's labels as Cog's builder writes them (pkg/image/build.go), from the image spec
    (cognix.image.spec): run.cog.version is the Cog release the runtime answers as (cognix's own version has a label
    of its own), run.cog.config is completed as Cog completes it (a GPU model's CUDA and cuDNN), run.cog.pip_freeze
    lists the image's Python packages."""
    return config_of(spec.image_config(spec_inputs(config, **kwargs)))


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


def native_spec(planned: list[Planned], inputs: spec.SpecInputs, max_layers: int = 100) -> spec.ImageSpec:
    """The image spec for the native engine's entries: one candidate per entry (name and own size) in plan order,
    the model's source (last) apart, the build.run layer never merged."""
    store = order_entries(planned)[:-1]
    candidates = tuple(spec.Candidate(path=p.entry.name, size=p.entry.size, alone=p.entry.name == "run") for p in store)
    return spec.spec_for(dataclasses.replace(inputs, candidates=candidates, max_layers=max_layers))


def layers_of(planned: list[Planned], image_spec: spec.ImageSpec) -> list[Layer]:
    """The spec's layer groups as layers of entries (groups are runs of consecutive entries), then the source."""
    ordered = order_entries(planned)
    layers, at = [], 0
    for group in image_spec.layers:
        entries = [p.entry for p in ordered[at : at + len(group.paths)]]
        assert [e.name for e in entries] == list(group.paths), "the spec's layers follow the plan's order"
        layers.append(Layer(entries=entries, comment=group.comment))
        at += len(group.paths)
    return [*layers, *(Layer(entries=[p.entry], comment=p.entry.name) for p in ordered[at:])]


def make_plan(
    planned: list[Planned],
    inputs: spec.SpecInputs,
    *,
    name: str,
    image: str | None,
    max_layers: int = 100,
) -> ImagePlan:
    """The plan from the image spec (cognix.image.spec): its layer grouping and image config."""
    if max_layers < 2:
        raise ValueError("max_layers must be at least 2")
    image_spec = native_spec(planned, inputs, max_layers)
    layers = layers_of(planned, image_spec)
    config = config_of(image_spec.config)
    return ImagePlan(layers=layers, config=config, repo_tag=repo_tag(name, image, config, layers),
                     created=image_spec.created)
