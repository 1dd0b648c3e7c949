"""Store entries: a tree is built once per key, and what a plan says about it comes from the plan asking."""

from pathlib import Path

import pytest

from cognix.store import entry_key, make_entry


@pytest.fixture(autouse=True)
def _store(tmp_path, monkeypatch):
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))


def _build(calls: list[str]):
    def build(tree: Path) -> None:
        calls.append(str(tree))
        (tree / "a.txt").write_text("a")
    return build


def test_a_tree_is_built_once_per_key():
    calls: list[str] = []
    key = entry_key("test", "one")
    first = make_entry(key, "runtime", _build(calls), references=["wheel/b", "wheel/a"])
    second = make_entry(key, "runtime", _build(calls), references=["wheel/a", "wheel/b"])
    assert len(calls) == 1
    assert first == second
    assert first.references == ["wheel/a", "wheel/b"] and first.size == 1 and first.digest


def test_a_reused_tree_takes_the_references_of_the_plan_that_asks():
    # the runtime's tree is the same for two models, but each model's plan has its own requested wheels: a tree built
    # for the first must not carry the first model's references into the second's image (its layer order)
    calls: list[str] = []
    key = entry_key("test", "shared")
    make_entry(key, "runtime", _build(calls), references=["wheel/pyyaml-6.0.4", "wheel/python-slugify-8.0.4"])
    again = make_entry(key, "runtime", _build(calls), references=["wheel/pyyaml-6.0.1"])
    assert len(calls) == 1
    assert again.references == ["wheel/pyyaml-6.0.1"]
    assert again.name == "runtime"
