"""Store entries: a tree is built once per key, and what a plan says about it comes from the plan asking."""

import os
import shutil
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


def test_an_edited_tree_is_discarded_and_built_again(capsys):
    calls: list[str] = []
    key = entry_key("test", "tampered")
    entry = make_entry(key, "wheel/a-1", _build(calls))
    (Path(entry.root) / "a.txt").write_text("injected")
    again = make_entry(key, "wheel/a-1", _build(calls))
    assert len(calls) == 2
    assert (Path(again.root) / "a.txt").read_text() == "a" and again.digest == entry.digest
    err = capsys.readouterr().err
    assert "warning: the store's tree for wheel/a-1" in err and "building it again from its verified inputs" in err
    assert not [p for p in Path(again.root).parents[1].iterdir() if p.name.startswith(".")]  # nothing left over


def test_an_added_file_is_noticed(capsys):
    calls: list[str] = []
    key = entry_key("test", "added")
    entry = make_entry(key, "deb/x", _build(calls))
    (Path(entry.root) / "etc").mkdir()
    (Path(entry.root) / "etc" / "evil").write_text("x")
    again = make_entry(key, "deb/x", _build(calls))
    assert len(calls) == 2 and not (Path(again.root) / "etc").exists()


def test_a_moved_but_intact_tree_is_resealed_not_rebuilt(capsys):
    # a cache restored from a backup or copied to another disk: new inodes and times, the same bytes
    calls: list[str] = []
    key = entry_key("test", "moved")
    entry = make_entry(key, "runtime", _build(calls))
    tree = Path(entry.root)
    shutil.copytree(tree, tree.with_name("copy"))
    shutil.rmtree(tree)
    tree.with_name("copy").rename(tree)
    again = make_entry(key, "runtime", _build(calls))
    assert len(calls) == 1 and again == entry and "warning" not in capsys.readouterr().err


def test_full_verification_sees_an_edit_that_kept_size_and_times(monkeypatch, capsys):
    calls: list[str] = []
    key = entry_key("test", "sneaky")
    entry = make_entry(key, "runtime", _build(calls))
    path = Path(entry.root) / "a.txt"
    st = path.stat()
    with open(path, "r+") as f:  # same inode, same size, times put back
        f.write("b")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    monkeypatch.setenv("COGNIX_VERIFY_STORE", "full")
    again = make_entry(key, "runtime", _build(calls))
    assert len(calls) == 2 and (Path(again.root) / "a.txt").read_text() == "a"
