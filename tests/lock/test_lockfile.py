"""lock.json: shape, deterministic bytes, atomic writes, and missing/malformed/stale detection (no network)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cognix.config import load_config
from cognix.errors import LockError
from cognix.lock.inputs import input_hash
from cognix.lock.lockfile import fetch_pip_metadata, load_lock, lock_bytes, read_lock, write_lock
from cognix.lock.model import Lock, Runtime, Wheel
from cognix.lock.runtime_pin import runtime_digest
from cognix.lock.target import make_target

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello"


@pytest.fixture
def model(tmp_path) -> Path:
    dest = tmp_path / "hello"
    shutil.copytree(HELLO, dest, ignore=shutil.ignore_patterns("lock.json", "__pycache__"))
    return dest


def wheel(name: str, deps: list[str], requested: bool = False) -> Wheel:
    return Wheel(name=name, version="1.0", filename=f"{name}-1.0-py3-none-any.whl",
                 url=f"https://index.invalid/{name}-1.0-py3-none-any.whl", sha256="ab" * 32, size=10,
                 dependencies=deps, requested=requested)


def make_lock(model_dir: Path) -> Lock:
    config = load_config(model_dir)
    return Lock(
        input_hash=input_hash(config, model_dir),
        target=make_target("3.11", glibc="2.36", debian_suite="bookworm"),
        config=config.cog_json(),
        wheels=[wheel("anyio", ["idna"]), wheel("idna", []), wheel("starlette", ["anyio"], requested=True)],
        runtime=Runtime(version="0.1.0", sha256=runtime_digest()),
        index_urls=["https://index.invalid/simple"],
    )


def test_fetch_pip_metadata_shape(model):
    meta = fetch_pip_metadata(make_lock(model))
    assert set(meta) == {"sources", "targets"}
    assert meta["sources"]["anyio"] == {"type": "url", "url": "https://index.invalid/anyio-1.0-py3-none-any.whl",
                                        "sha256": "ab" * 32, "version": "1.0", "is_direct": False}
    assert meta["targets"] == {"default": {"anyio": ["idna"], "idna": [], "starlette": ["anyio"]}}


def test_bytes_are_deterministic_and_layout(model):
    lock = make_lock(model)
    data = lock_bytes(lock)
    assert data == lock_bytes(Lock.model_validate(json.loads(data)["cognix"]))
    assert data.endswith(b"}\n")
    doc = json.loads(data)
    assert set(doc) == {"cognix", "contentHash", "fetchPipMetadata", "invalidationHash"}
    assert doc["invalidationHash"] == lock.input_hash
    assert data == (json.dumps(doc, sort_keys=True, indent=2) + "\n").encode()


def test_write_then_load_roundtrip(model):
    lock = make_lock(model)
    path = write_lock(model, lock)
    assert path == model / "lock.json"
    assert [p.name for p in model.iterdir() if p.name.startswith(".lock.json")] == []  # no temp file left
    assert load_lock(model, load_config(model)) == lock


def test_missing_lock(model):
    with pytest.raises(LockError, match=r"no lock.json") as info:
        load_lock(model, load_config(model))
    assert "cognix lock" in info.value.message


@pytest.mark.parametrize("content", ["{not json", '{"cognix": {"format": 1}}', "[]"])
def test_malformed_lock(model, content):
    (model / "lock.json").write_text(content)
    with pytest.raises(LockError, match="malformed") as info:
        load_lock(model, load_config(model))
    assert "cognix lock" in info.value.message


def test_stale_when_build_changes(model):
    write_lock(model, make_lock(model))
    text = (model / "cog.yaml").read_text()
    (model / "cog.yaml").write_text(text.replace("build:\n", "build:\n  system_packages: [curl]\n"))
    with pytest.raises(LockError) as info:
        load_lock(model, load_config(model))
    assert info.value.message == ("lock.json is stale: cog.yaml/requirements changed since it was made; "
                                  "run `cognix lock` to refresh it")


def test_stale_when_runtime_changes(model):
    lock = make_lock(model)
    write_lock(model, lock.model_copy(update={"runtime": Runtime(version="0.1.0", sha256="0" * 64)}))
    with pytest.raises(LockError, match="runtime changed"):
        load_lock(model, load_config(model))


def test_input_hash_ignores_predict_py_but_not_requirements(model):
    before = input_hash(load_config(model), model)
    (model / "predict.py").write_text((model / "predict.py").read_text() + "\n# edited\n")
    assert input_hash(load_config(model), model) == before
    text = (model / "cog.yaml").read_text()
    (model / "requirements.txt").write_text("numpy==2.0.0\n")
    (model / "cog.yaml").write_text(text.replace("build:\n", 'build:\n  python_requirements: "requirements.txt"\n'))
    with_reqs = input_hash(load_config(model), model)
    assert with_reqs != before
    (model / "requirements.txt").write_text("numpy==2.1.0\n")
    newer = input_hash(load_config(model), model)
    assert newer != with_reqs
    # resolver options and find-links change what gets locked, so they make the lock stale too
    (model / "requirements.txt").write_text("--pre\nnumpy==2.1.0\n")
    with_pre = input_hash(load_config(model), model)
    assert with_pre != newer
    (model / "requirements.txt").write_text("--pre\n-f https://links.invalid/\nnumpy==2.1.0\n")
    assert input_hash(load_config(model), model) != with_pre


def test_read_lock_skips_staleness(model):
    write_lock(model, make_lock(model))
    (model / "cog.yaml").write_text((model / "cog.yaml").read_text().replace('"3.11"', '"3.12"'))
    assert read_lock(model).target.python_version == "3.11"
