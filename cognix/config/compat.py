"""cog.yaml as every Cog release wrote it.

Which key which release accepted comes from replicate/cog's pkg/config: its structs (config.go) for v0.0.5 to
v0.0.18, which read YAML without a schema, and the JSON schema pkg/config/data/config_schema_v1.0.json from
v0.0.19 on (a v1.1 schema, with `build.env`, only ever lived on an unreleased branch). `COG_KEYS` lists them.

Three kinds of key:
- honoured or validated: fields of the cog.yaml model (cognix/config/model.py);
- ignored: accepted, type-checked as Cog's schema did, and reported as one located note each
  (`cog.yaml:3:3: build.fast: ignored: <why>`, `CogConfig.notices`); they stay out of `cog_json()`, which follows
  the run.cog.config label of current Cog releases (none of them carries these keys), so the lock's input hash
  is the same as without them;
- Cog's own `weights` entries (`{name, target, source}`), mapped here onto cognix's WeightSpec fields.

Keys of Cog's first releases (v0.0.1 to v0.0.4: `model:` naming the predictor, `environment:` a mapping of build
settings, `examples`, `workdir`, `name`) are refused with a message saying what replaced them: no later Cog
release reads that shape and its Python API (`cog.Model`) is not one cognix's runtime serves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import StrictBool, StrictInt, StrictStr, TypeAdapter, ValidationError

from cognix.config.cog_weights import map_weights
from cognix.config.prepared import Ignored, KeyPath, Prepared


# key path ("[]" for list items) -> (Cog releases that accepted it, what cognix does with it)
COG_KEYS: dict[str, tuple[str, str]] = {
    "build": ("v0.0.5+", "honoured"),
    "build.python_version": ("v0.0.5+", "honoured"),
    "build.python_requirements": ("v0.0.5+", "honoured"),
    "build.python_packages": ("v0.0.5+", "honoured"),
    "build.system_packages": ("v0.0.5+", "honoured"),
    "build.pre_install": ("v0.0.5+", "honoured"),
    "build.gpu": ("v0.0.5+", "honoured"),
    "build.cuda": ("v0.0.5+", "honoured"),
    "build.cudnn": ("v0.0.5+ (schema: v0.8.0-beta10+)", "validated"),
    "build.python_find_links": ("v0.0.5-v0.0.18", "honoured with python_packages, else ignored"),
    "build.python_extra_index_urls": ("v0.0.5-v0.0.18", "honoured with python_packages, else ignored"),
    "build.run": ("v0.0.10+", "honoured"),
    "build.run[].command": ("v0.7.0-beta18+", "honoured"),
    "build.run[].mounts": ("v0.7.0-beta18+", "honoured"),
    "build.run[].mounts[].type": ("v0.7.0-beta18+", "honoured"),
    "build.run[].mounts[].id": ("v0.7.0-beta18+", "honoured"),
    "build.run[].mounts[].target": ("v0.7.0-beta18+", "honoured"),
    "build.fast": ("v0.14.4-v0.17.0-alpha1", "ignored"),
    "build.python_overrides": ("v0.14.6-v0.17.0-alpha1", "ignored"),
    "build.cog_runtime": ("v0.15.11-v0.17.0-alpha1", "ignored"),
    "build.sdk_version": ("v0.17.0-rc.1+", "validated, kept in the label, ignored"),
    "image": ("v0.0.5+", "honoured"),
    "predict": ("v0.0.5+", "honoured"),
    "train": ("v0.7.0-beta17+", "honoured"),
    "concurrency": ("v0.9.9+ (an integer in v0.10.0-alpha4 to alpha8)", "honoured"),
    "concurrency.max": ("v0.9.9+", "honoured"),
    "concurrency.default_target": ("v0.9.9+", "ignored"),
    "tests": ("v0.14.0-v0.17.0-beta2", "ignored"),
    "environment": ("v0.14.9+", "honoured"),
    "weights": ("v0.17.0-alpha2+", "honoured (Cog's shape mapped onto cognix's)"),
    "weights[].source": ("v0.17.0-alpha2+", "honoured"),
    "weights[].target": ("v0.17.0-alpha2+", "honoured"),
    "weights[].name": ("v0.17.0-alpha4+", "validated, ignored"),
    "weights[].source.uri": ("v0.19.3+", "honoured"),
    "weights[].source.include": ("v0.19.3+", "honoured"),
    "weights[].source.exclude": ("v0.19.3+", "honoured"),
    "weights[].source[].uri": ("v0.20.0+", "honoured"),
    "weights[].source[].include": ("v0.20.0+", "honoured"),
    "weights[].source[].exclude": ("v0.20.0+", "honoured"),
    "model": ("v0.20.0+", "validated, kept in the label"),
    "run": ("v0.20.0+", "honoured"),
}

# Keys cognix accepts and drops: (type Cog's schema gave them, why they change nothing in a cognix image).
_IGNORED: dict[KeyPath, tuple[Any, str]] = {
    ("build", "fast"): (
        StrictBool,
        "cognix images always build from the lock (Cog's fast builds change how Cog builds, not what the "
        "image holds)",
    ),
    ("build", "cog_runtime"): (
        StrictBool,
        "cognix images always run cognix's runtime, which serves Cog's HTTP API (Cog used it to pick its "
        "experimental cog-runtime server)",
    ),
    ("build", "python_overrides"): (
        StrictStr,
        "Cog applied it only to fast builds (build.fast); cognix resolves python_requirements alone, as Cog's "
        "standard builds do: pin the versions you need there",
    ),
    ("concurrency", "default_target"): (
        StrictInt,
        "an autoscaling hint for Replicate deployments; nothing in the image reads it (Cog's run.cog.config "
        "label leaves it out too)",
    ),
    ("tests",): (
        list[dict[str, Any]],
        "the test predictions Cog asked for before fast pushes; cognix runs no predictions at build time",
    ),
}
# Keys that stay in the model (validated, and in the label) but change nothing in the image's contents.
_NOTED: dict[KeyPath, str] = {
    ("build", "sdk_version"): (
        "cognix images run cognix's runtime in place of the cog package, so no cog wheel is installed (the "
        "value is kept in the run.cog.config label)"
    ),
}
_FIND_LINKS_KEYS = ("python_find_links", "python_extra_index_urls")
_FIRST_RELEASES = "Cog's first releases (v0.0.1 to v0.0.4)"
_FIRST_RELEASE_KEYS = ("examples", "workdir", "name")

_TYPES: dict[Any, TypeAdapter[Any]] = {}


def ignored_keys(path: KeyPath) -> list[str]:
    """Names cognix accepts-and-ignores in the mapping at path (for did-you-mean suggestions)."""
    names = [p[-1] for p in _IGNORED if p[:-1] == path]
    if path == ("build",):
        names += list(_FIND_LINKS_KEYS)
    return [str(n) for n in names]


def prepare(data: dict[str, Any], model_dir: Path | None = None) -> Prepared:
    """Take ignored keys out of data (type-checked, each noted), map Cog's weights entries, refuse the shape of
    Cog's first releases. Never changes data itself."""
    out = Prepared(data=dict(data))
    for key in ("build", "concurrency"):
        if isinstance(out.data.get(key), dict):
            out.data[key] = dict(out.data[key])
    for path, (kind, reason) in _IGNORED.items():
        parent = out.data if len(path) == 1 else out.data.get(path[0])
        if not isinstance(parent, dict) or path[-1] not in parent:
            continue
        value = parent.pop(path[-1])
        if value is None:
            continue  # written without a value: absent, as everywhere in cog.yaml
        out.errors += _type_errors(path, kind, value)
        out.ignored.append(Ignored(path, reason))
    build = out.data.get("build")
    if isinstance(build, dict):
        for key, reason in _NOTED.items():
            if build.get(key[-1]) is not None:
                out.ignored.append(Ignored(key, reason))
        for key in _FIND_LINKS_KEYS:
            if build.get(key) is not None and build.get("python_packages") is None:
                what = "--find-links" if key == "python_find_links" else "--extra-index-url"
                out.ignored.append(Ignored(("build", key), (
                    f"Cog (v0.0.5 to v0.0.18) passed it to pip only for build.python_packages; with a requirements "
                    f"file, write `{what} URL` in that file")))
    concurrency = out.data.get("concurrency")
    if isinstance(concurrency, int) and not isinstance(concurrency, bool):
        out.data["concurrency"] = {"max": concurrency}  # `concurrency: N` (v0.10.0-alpha4 to alpha8)
    _first_releases(out)
    weights = out.data.get("weights")
    if isinstance(weights, list):
        map_weights(out, weights, model_dir)
    return out


def _type_errors(path: KeyPath, kind: Any, value: Any) -> list[tuple[KeyPath, str, str, Any]]:
    adapter = _TYPES.get(kind)
    if adapter is None:
        adapter = _TYPES[kind] = TypeAdapter(kind)
    try:
        adapter.validate_python(value)
    except ValidationError as err:
        return [((*path, *e["loc"]), e["type"], e["msg"], e.get("input")) for e in err.errors()]
    return []


def _first_releases(out: Prepared) -> None:
    data = out.data
    if isinstance(data.get("environment"), dict):
        data.pop("environment")
        out.errors.append((("environment",), "cognix", (
            f"a mapping of build settings is the cog.yaml of {_FIRST_RELEASES}; since v0.0.5 they go under "
            "'build', the predictor under 'predict' (not 'model'), and 'environment' is a list of NAME=value"), None))
    for key in _FIRST_RELEASE_KEYS:
        if key in data:
            data.pop(key)
            out.errors.append(((key,), "cognix", f"a key of {_FIRST_RELEASES}, which no later release reads; "
                               "remove it", None))
