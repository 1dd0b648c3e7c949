"""Build-mode weights as layer trees, and the runtime manifest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from weights_helpers import make_lock, weight_file

from cognix.errors import WeightsError
from cognix.lock.model import WeightSet
from cognix.weights import layers
from cognix.weights.layers import source_exclusions, weight_trees
from cognix.weights.manifest import manifest_bytes, manifest_for


def build_set(d: Path, files: dict[str, bytes], dest: str = "/src/weights") -> WeightSet:
    for name, data in files.items():
        (d / "weights" / name).parent.mkdir(parents=True, exist_ok=True)
        (d / "weights" / name).write_bytes(data)
    return WeightSet(src="weights", dest=dest, mode="build",
                     files=[weight_file(n, b, f"weights/{n}") for n, b in sorted(files.items())])


def test_large_files_get_own_layers_small_ones_are_grouped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layers, "LARGE_FILE", 1000)
    files = {"big1.bin": os.urandom(2000), "big2.bin": os.urandom(1000), "cfg.json": b"{}", "tok/vocab.txt": b"v"}
    lock = make_lock(build_set(tmp_path, files),
                     WeightSet(src="gs://b/x", dest="/src/remote", mode="runtime", files=[]))
    trees = weight_trees(lock, tmp_path)
    assert [t.name for t in trees] == ["weights/src/weights/big1.bin", "weights/src/weights/big2.bin",
                                       "weights/src/weights"]
    big1, _big2, small = (Path(t.root) for t in trees)
    assert (big1 / "src/weights/big1.bin").read_bytes() == files["big1.bin"]
    assert sorted(p.relative_to(small).as_posix() for p in small.rglob("*") if p.is_file()) == [
        "src/weights/cfg.json", "src/weights/tok/vocab.txt"]
    assert [t.size for t in trees] == [2000, 1000, 3]

    # Change one small file: only the small-files layer changes; the big layers are the same entries.
    files["cfg.json"] = b'{"x": 1}'
    trees2 = weight_trees(make_lock(build_set(tmp_path, files)), tmp_path)
    assert [t.root for t in trees2[:2]] == [t.root for t in trees[:2]]
    assert trees2[2].root != trees[2].root and trees2[2].digest != trees[2].digest
    # Change one big file: only its layer changes.
    files["big2.bin"] = os.urandom(1000)
    trees3 = weight_trees(make_lock(build_set(tmp_path, files)), tmp_path)
    assert [t.root == u.root for t, u in zip(trees3, trees2)] == [True, False, True]
    # The tree does not share an inode with the user's file: editing the model dir can't alter a built layer.
    assert (Path(trees3[0].root) / "src/weights/big1.bin").stat().st_ino != (tmp_path / "weights/big1.bin").stat().st_ino


def test_a_build_file_edited_after_lock_is_refused(tmp_path: Path) -> None:
    ws = build_set(tmp_path, {"a.bin": b"locked"})
    (tmp_path / "weights/a.bin").write_bytes(b"edited")
    with pytest.raises(WeightsError, match="changed since it was locked"):
        weight_trees(make_lock(ws), tmp_path)


def test_manifest_lists_pushed_runtime_files() -> None:
    pushed = weight_file("m.bin", b"m", "w/m.bin", location="gs://bk/sha256/" + "0" * 64)
    https = weight_file("t.json", b"t", "https://127.0.0.1:9/t.json")
    lock = make_lock(WeightSet(src="w", dest="/src/w", mode="runtime", files=[pushed, https]),
                     WeightSet(src="b", dest="/src/b", mode="build", files=[weight_file("x", b"x", "b/x")]))
    manifest = manifest_for(lock)
    assert manifest == {"version": 1, "files": [
        {"dest": "/src/w/m.bin", "sha256": pushed.sha256, "size": 1, "url": pushed.location},
        {"dest": "/src/w/t.json", "sha256": https.sha256, "size": 1, "url": https.source},
    ]}
    assert manifest_bytes(manifest) == manifest_bytes(manifest_for(lock))
    assert manifest_for(make_lock(lock.weights[1])) is None


def test_manifest_refuses_unpushed_runtime_files() -> None:
    lock = make_lock(WeightSet(src="w", dest="/src/w", mode="runtime", files=[weight_file("m.bin", b"m", "w/m.bin")]))
    with pytest.raises(WeightsError, match="not pushed yet: w/m.bin"):
        manifest_for(lock)


def test_source_exclusions_name_local_weight_files(tmp_path: Path) -> None:
    lock = make_lock(build_set(tmp_path, {"a.bin": b"a", "sub/b.bin": b"b"}),
                     WeightSet(src="https://127.0.0.1:9/x", dest="/src/x", mode="runtime",
                               files=[weight_file("x", b"x", "https://127.0.0.1:9/x")]))
    assert source_exclusions(lock) == ["weights/a.bin", "weights/sub/b.bin"]


def test_remote_build_files_are_fetched_and_verified(tmp_path: Path, http_server) -> None:
    served = {"/good.bin": b"remote weights", "/changed.bin": b"other bytes"}

    def files(handler, _rec) -> None:
        body = served[handler.path]
        handler.send_response(200)
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    url, _rec = http_server(files)
    good = weight_file("good.bin", b"remote weights", f"{url}/good.bin")
    [entry] = weight_trees(make_lock(WeightSet(src=f"{url}/good.bin", dest="/src/r", mode="build", files=[good])),
                           tmp_path)
    assert (Path(entry.root) / "src/r/good.bin").read_bytes() == b"remote weights"
    stale = weight_file("changed.bin", b"locked bytes", f"{url}/changed.bin")
    with pytest.raises(WeightsError, match="changed since it was locked"):
        weight_trees(make_lock(WeightSet(src=f"{url}/changed.bin", dest="/src/c", mode="build", files=[stale])),
                     tmp_path)
