"""Integration: weights in the native engine: build-mode layers, /src exclusions, the runtime manifest."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml

from cognix.config import load_config
from cognix.engines.native.build import build
from cognix.errors import WeightsError
from cognix.lock import load_lock, lock_model, write_lock
from cognix.weights.layers import LARGE_FILE

HELLO = Path(__file__).resolve().parents[3] / "examples" / "hello"
BIG = 70 << 20
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _model(root: Path, mode: str) -> Path:
    model_dir = root / "hello"
    shutil.copytree(HELLO, model_dir, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
    config = yaml.safe_load((model_dir / "cog.yaml").read_text())
    config["weights"] = [{"src": "weights", "dest": "/src/weights", "mode": mode}]
    (model_dir / "cog.yaml").write_text(yaml.safe_dump(config))
    weights = model_dir / "weights"
    weights.mkdir()
    (weights / "big.bin").write_bytes(random.Random(7).randbytes(BIG))  # deterministic bytes
    (weights / "config.json").write_text('{"layers": 2}\n')
    (weights / "tokenizer.txt").write_text("a b c\n")
    write_lock(model_dir, lock_model(model_dir))
    return model_dir


def _layers(oci: Path) -> list[tuple[str, dict[str, bytes]]]:
    """(diff_id, {path: file bytes}) per layer of a one-image OCI layout."""
    index = json.loads((oci / "index.json").read_text())
    blob = lambda d: oci / "blobs" / d.replace(":", "/")
    manifest = json.loads(blob(index["manifests"][0]["digest"]).read_text())
    config = json.loads(blob(manifest["config"]["digest"]).read_text())
    out = []
    for desc, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"], strict=True):
        with tarfile.open(blob(desc["digest"]), mode="r:*") as tar:
            files = {m.name.lstrip("./"): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
        out.append((diff_id, files))
    return out


def _with(layers: list[tuple[str, dict[str, bytes]]], path: str) -> list[int]:
    return [i for i, (_, files) in enumerate(layers) if path in files]


def test_build_mode_weights_get_their_own_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    model = _model(tmp_path, "build")
    assert BIG >= LARGE_FILE
    build(model, out=tmp_path / "r1", oci_layout=tmp_path / "oci1")
    first = _layers(tmp_path / "oci1")
    big, small = "src/weights/big.bin", "src/weights/config.json"
    assert len(_with(first, big)) == 1 and len(_with(first, small)) == 1  # present once: not also in /src
    i_big, i_small = _with(first, big)[0], _with(first, small)[0]
    src = len(first) - 1
    assert "src/predict.py" in first[src][1] and i_big < i_small < src  # order: big, small group, then /src
    assert set(first[i_big][1]) == {big}
    assert set(first[i_small][1]) == {small, "src/weights/tokenizer.txt"}
    assert hashlib.sha256(first[i_big][1][big]).digest() == hashlib.sha256(
        (model / "weights/big.bin").read_bytes()).digest()
    assert not any(p.startswith("src/weights") for p in first[src][1])
    assert ".cog/weights.json" not in {p.removeprefix("src/") for p in first[src][1]}  # build mode: no manifest

    (model / "weights/config.json").write_text('{"layers": 3}\n')
    write_lock(model, lock_model(model))  # the lock pins weight hashes: relock after an edit
    build(model, out=tmp_path / "r2", oci_layout=tmp_path / "oci2")
    second = _layers(tmp_path / "oci2")
    changed = [i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a[0] != b[0]]
    assert changed == [i_small]  # only the small group's layer; the big layer and /src are unchanged
    assert second[i_small][1][small] == b'{"layers": 3}\n'


def test_runtime_mode_writes_the_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    model = _model(tmp_path, "runtime")
    with pytest.raises(WeightsError, match="not pushed yet"):  # no locations recorded yet: a clear error
        build(model, out=tmp_path / "r0")
    assert not (tmp_path / "r0").exists()

    lock = load_lock(model, load_config(model))
    lock = lock.model_copy(update={"weights": [
        ws.model_copy(update={"files": [f.model_copy(update={"location": f"gs://bucket/sha256/{f.sha256}"})
                                        for f in ws.files]})
        for ws in lock.weights]})
    write_lock(model, lock)
    build(model, out=tmp_path / "r1", oci_layout=tmp_path / "oci")
    layers = _layers(tmp_path / "oci")
    src = layers[-1][1]
    assert not any(p.startswith("src/weights/") for _, files in layers for p in files)  # pulled at start instead
    manifest = json.loads(src["src/.cog/weights.json"])
    assert manifest["version"] == 1
    by_dest = {f["dest"]: f for f in manifest["files"]}
    assert sorted(by_dest) == ["/src/weights/big.bin", "/src/weights/config.json", "/src/weights/tokenizer.txt"]
    big = by_dest["/src/weights/big.bin"]
    assert big["size"] == BIG and big["url"] == f"gs://bucket/sha256/{big['sha256']}"
