"""Weights layers in the plan: after the run layer, before /src, in the order given, never merged into /src."""

from __future__ import annotations

from test_plan import plan_layers

from cognix.engines.native.plan import Planned
from cognix.image.plan import Entry


def _e(name: str, size: int = 10) -> Entry:
    return Entry(name=name, root=f"/x/{name}", size=size, digest=name)


def _planned() -> list[Planned]:
    weights = [Planned("weights", _e(n, 1)) for n in ("weights/src/w/z.bin", "weights/src/w/a.bin", "weights/src/w")]
    return [Planned("src", _e("src", 1)), *weights, Planned("run", _e("run")), Planned("runtime", _e("runtime")),
            Planned("system", _e("system", 1000))]


def test_weights_keep_their_order_between_run_and_src() -> None:
    names = [layer.comment for layer in plan_layers(_planned())]
    assert names == ["system", "runtime", "run", "weights/src/w/z.bin", "weights/src/w/a.bin", "weights/src/w", "src"]


def test_weights_merge_with_each_other_not_into_src() -> None:
    layers = plan_layers(_planned(), max_layers=5)
    assert [[e.name for e in layer.entries] for layer in layers] == [
        ["system"], ["runtime"], ["run"], ["weights/src/w/z.bin", "weights/src/w/a.bin", "weights/src/w"], ["src"]]
