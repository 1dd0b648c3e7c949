"""Layer planning and image config on hand-made entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cognix.config import load_config
import cognix
from cognix.engines.native.plan import (
    Planned,
    image_config,
    layers_of,
    native_spec,
    order_entries,
    pip_freeze,
    popularity,
)
from cognix.image import spec
from cognix.image.plan import Entry, Layer

INPUTS = spec.SpecInputs(cog=spec.CogSettings(config={}), runtime_version="0.23.1", title="t")


def _e(name: str, size: int = 10, refs: tuple[str, ...] = ()) -> Entry:
    return Entry(name=name, root=f"/x/{name}", size=size, references=list(refs), digest=name)


def test_order_kinds_then_popularity() -> None:
    libc = _e("deb/libc6")
    ssl = _e("deb/libssl3", refs=("deb/libc6",))
    py = _e("deb/python3.11", refs=("deb/libssl3", "deb/libc6"))
    planned = [Planned("src", _e("src")), Planned("wheel", _e("wheel/a")), Planned("deb", py),
               Planned("runtime", _e("runtime")), Planned("deb", ssl), Planned("deb", libc),
               Planned("system", _e("system"))]
    assert popularity([libc, ssl, py]) == {"deb/libc6": 3, "deb/libssl3": 2, "deb/python3.11": 1}
    names = [p.entry.name for p in order_entries(planned)]
    assert names == ["deb/libc6", "deb/libssl3", "deb/python3.11", "system", "wheel/a", "runtime", "src"]


def plan_layers(planned: list[Planned], max_layers: int = 100) -> list[Layer]:
    """The native engine's layers: the image spec's grouping of the planned entries (as make_plan takes them)."""
    return layers_of(planned, native_spec(planned, INPUTS, max_layers))


def test_merge_smallest_adjacent_pair_keeps_source_alone() -> None:
    planned = [Planned("src" if n == "src" else "deb", _e(n, s))
               for n, s in [("a", 100), ("b", 1), ("c", 2), ("d", 50), ("src", 1)]]
    merged = plan_layers(planned, 4)
    assert [[e.name for e in layer.entries] for layer in merged] == [["a"], ["b", "c"], ["d"], ["src"]]
    merged = plan_layers(planned, 2)
    assert [[e.name for e in layer.entries] for layer in merged] == [["a", "b", "c", "d"], ["src"]]
    with pytest.raises(ValueError):
        plan_layers(planned, 1)


def test_plan_respects_max_layers() -> None:
    planned = [Planned("deb", _e(f"deb/p{i:03}", i + 1)) for i in range(150)] + [Planned("src", _e("src"))]
    layers = plan_layers(planned, 100)
    assert len(layers) == 100
    assert layers[-1].entries[0].name == "src"
    assert sorted(e.name for layer in layers for e in layer.entries) == sorted(p.entry.name for p in planned)


def test_image_config(tmp_path: Path) -> None:
    (tmp_path / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\nconcurrency:\n  max: 2\n'
        'environment:\n  - FOO=bar\n')
    (tmp_path / "predict.py").write_text("class Predictor: ...\n")
    config = load_config(tmp_path)
    image = image_config(config, title="m", schema={"openapi": "3.0.2"}, revision="abc", created="1970-01-01T00:00:01Z")
    assert image.entrypoint == ["/usr/bin/tini", "--"]
    assert image.cmd == ["python", "-m", "cognix.runtime"]
    assert image.user == "cog" and image.working_dir == "/src" and image.exposed_ports == ["5000/tcp"]
    assert image.env == sorted(image.env, key=lambda v: v.split("=")[0])
    assert "COG_PREDICT_TYPE_STUB=predict.py:Predictor" in image.env
    assert "COG_MAX_CONCURRENCY=2" in image.env and "FOO=bar" in image.env and "PYTHONUNBUFFERED=1" in image.env
    assert json.loads(image.labels["run.cog.config"])["predict"] == "predict.py:Predictor"
    assert image.labels["run.cog.openapi_schema"] == '{"openapi":"3.0.2"}'
    assert image.labels["run.cog.has_init"] == "true"
    assert image.labels["org.opencontainers.image.revision"] == "abc"
    root = image_config(config, title="m", schema=None, revision=None, created="x", root_user=True)
    assert root.user == "" and "org.opencontainers.image.revision" not in root.labels
    # Cog's labels as its builder writes them: the Cog release the runtime answers as, cognix's own apart
    assert image.labels["run.cog.version"] == "0.23.1" and image.labels["run.cognix.version"] == cognix.__version__
    assert "run.cog.pip_freeze" not in image.labels  # none given


def test_labels_cog_completes(tmp_path: Path) -> None:
    (tmp_path / "cog.yaml").write_text('build:\n  gpu: true\n  python_version: "3.11"\npredict: "predict.py:P"\n')
    config = load_config(tmp_path)
    image = image_config(config, title="m", schema=None, revision=None, created="x", cuda="12.1", cudnn="8",
                         pip_freeze=pip_freeze([("typing_extensions", "4.12.2"), ("PyYAML", "6.0.2"),
                                                ("anyio", "4.4.0")]))
    build = json.loads(image.labels["run.cog.config"])["build"]
    assert (build["cuda"], build["cudnn"]) == ("12.1", "8")
    assert image.labels["run.cog.pip_freeze"] == "anyio==4.4.0\nPyYAML==6.0.2\ntyping_extensions==4.12.2"
    (tmp_path / "cog.yaml").write_text('build:\n  gpu: true\n  cuda: "11.8"\npredict: "predict.py:P"\n')
    build = json.loads(image_config(load_config(tmp_path), title="m", schema=None, revision=None, created="x",
                                    cuda="11.7").labels["run.cog.config"])["build"]
    assert build["cuda"] == "11.8"  # what cog.yaml says stays


def test_run_layer_is_never_merged() -> None:
    planned = [Planned(n.split("/")[0], _e(n, size=1 if n == "run" else 100))
               for n in ["deb/a", "deb/b", "wheel/c", "run", "src"]]
    merged = plan_layers(planned, 3)
    assert [[e.name for e in layer.entries] for layer in merged] == [["deb/a", "deb/b", "wheel/c"], ["run"], ["src"]]
    # nothing left to merge: more layers than asked rather than whiteouts beside the files they hide
    assert [[e.name for e in layer.entries] for layer in plan_layers(planned, 2)] == [
        ["deb/a", "deb/b", "wheel/c"], ["run"], ["src"]]
