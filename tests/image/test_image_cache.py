"""The layer cache is checked like the store: a hand-edited record (a diff_id for the image config, a blob digest
`push` would trust the registry for) is discarded with a warning and computed again from the verified trees."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from image_trees import make_system_tree

from cognix.errors import ImageError
from cognix.image.cache import LayerCache, cache_dir, layer_key
from cognix.image.layers import cached_blob, layer_info, write_blob
from cognix.image.plan import Entry, Layer
from cognix.image.tarball import write_layer

MTIME = 1


def _layer(tree: Path) -> Layer:
    return Layer(entries=[Entry(name="e", root=str(tree), size=0, digest="sha256:" + "ab" * 32)])


def _record(layer: Layer) -> Path:
    return cache_dir() / f"{layer_key(layer, MTIME)}.json"


def _edit(path: Path, change) -> None:
    doc = json.loads(path.read_text())
    change(doc["fields"])
    path.write_text(json.dumps(doc))


def test_records_are_sealed(tmp_path: Path) -> None:
    layer = _layer(make_system_tree(tmp_path / "t"))
    info = layer_info(layer, MTIME)
    doc = json.loads(_record(layer).read_text())
    assert doc["fields"] == {"diff_id": info.diff_id, "size": info.size} and len(doc["seal"]) == 64


def test_an_edited_diff_id_is_recomputed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layer = _layer(make_system_tree(tmp_path / "t"))
    info = layer_info(layer, MTIME)
    _edit(_record(layer), lambda f: f.update(diff_id="sha256:" + "00" * 32))
    assert layer_info(layer, MTIME) == info == write_layer(layer, None, MTIME)
    err = capsys.readouterr().err
    assert f"warning: the layer cache's record {_record(layer)} was changed since cognix wrote it" in err
    assert "computing the layer's digests again from its verified trees" in err
    assert json.loads(_record(layer).read_text())["fields"]["diff_id"] == info.diff_id  # rewritten, sealed


@pytest.mark.parametrize("change", [
    lambda f: f["gzip"][next(iter(f["gzip"]))].update(digest="sha256:" + "11" * 32),
    lambda f: f["gzip"][next(iter(f["gzip"]))].update(size=1),
    lambda f: f.update(size=f["size"] + 1),
])
def test_an_edited_blob_digest_is_not_trusted(tmp_path: Path, change, capsys: pytest.CaptureFixture[str]) -> None:
    layer = _layer(make_system_tree(tmp_path / "t"))
    _, blob = write_blob(layer, MTIME, io.BytesIO())
    _edit(_record(layer), change)
    assert cached_blob(layer, MTIME) is None  # push then compresses and uploads it again
    assert "was changed since cognix wrote it" in capsys.readouterr().err
    assert write_blob(layer, MTIME, io.BytesIO())[1] == blob


@pytest.mark.parametrize("text", ["", "{", "[]", '{"diff_id": "sha256:00", "size": 1}', '{"fields": [], "seal": ""}'])
def test_unreadable_or_unsealed_records_are_misses(tmp_path: Path, text: str) -> None:
    layer = _layer(make_system_tree(tmp_path / "t"))
    record = _record(layer)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(text)
    assert layer_info(layer, MTIME) == write_layer(layer, None, MTIME)


def test_a_record_moved_to_another_key_is_refused(tmp_path: Path) -> None:
    one, two = _layer(make_system_tree(tmp_path / "a")), _layer(make_system_tree(tmp_path / "b"))
    two = Layer(entries=[Entry(name="e", root=two.entries[0].root, size=0, digest="sha256:" + "cd" * 32)])
    layer_info(one, MTIME)
    _record(two).write_bytes(_record(one).read_bytes())  # a valid seal, for another key
    assert LayerCache().get(layer_key(two, MTIME)) == {}


def test_a_tree_changed_after_its_digest_was_cached_fails_the_blob(tmp_path: Path) -> None:
    tree = make_system_tree(tmp_path / "t")
    layer = _layer(tree)
    layer_info(layer, MTIME)
    (tree / "etc" / "passwd").write_text("injected\n")  # the engine's digest (the key) no longer tells the truth
    with pytest.raises(ImageError, match="its trees in the store changed") as info:
        write_blob(layer, MTIME, io.BytesIO())
    assert "run `cognix build` again" in (info.value.fix or "")
