"""build.run: commands run over the assembled tree; additions and deletions (OCI whiteouts) form one layer."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from cognix.config import load_config
from cognix.engines.native.build import build
from cognix.engines.native.steps import _removed
from cognix.lock import lock_model, write_lock
from cognix.lock.debian import run_step_packages

HELLO = Path(__file__).resolve().parents[3] / "examples" / "hello"


def test_run_step_packages(tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(HELLO, model, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
    assert run_step_packages(bool(load_config(model).build.all_run_steps)) == []
    (model / "cog.yaml").write_text((model / "cog.yaml").read_text().replace(
        'python_version: "3.11"', 'python_version: "3.11"\n  pre_install: ["true"]'))
    assert run_step_packages(bool(load_config(model).build.all_run_steps)) == ["coreutils", "dash"]


def test_removed_lists_topmost_deleted_paths() -> None:
    before = {p: (0,) for p in ["a", "a/b", "a/b/c", "d", "e", "tmp/x"]}
    after = {"d": (0,)}
    assert _removed(before, after) == ["a", "e"]


@pytest.mark.slow
def test_run_commands_add_and_delete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("bwrap") is None or shutil.which("umoci") is None:
        pytest.skip("bubblewrap and umoci are needed")
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    model = tmp_path / "hello"
    shutil.copytree(HELLO, model, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
    (model / "cog.yaml").write_text((model / "cog.yaml").read_text().replace(
        'python_version: "3.11"',
        'python_version: "3.11"\n  system_packages: [dash, coreutils]\n'
        '  run:\n    - "echo made-by-run > /etc/run-marker && rm /usr/bin/yes"\n'
        '  pre_install:\n    - "mkdir -p /opt/pre && cp /etc/run-marker /opt/pre/"'))
    write_lock(model, lock_model(model))
    layout = tmp_path / "oci"
    result = build(model, out=tmp_path / "result", oci_layout=layout)
    run_layer = [layer for layer in result.plan.layers if any(e.name == "run" for e in layer.entries)]
    assert len(run_layer) == 1
    run_root = Path(next(e for e in run_layer[0].entries if e.name == "run").root)
    assert (run_root / "usr/bin/.wh.yes").is_file() and (run_root / "usr/bin/.wh.yes").stat().st_size == 0
    assert (run_root / "etc/run-marker").read_text() == "made-by-run\n"
    assert not (run_root / "usr/bin/dash").exists()  # only what the commands changed

    tag = json.loads((layout / "index.json").read_text())["manifests"][0]["annotations"][
        "org.opencontainers.image.ref.name"]
    bundle = tmp_path / "bundle"
    unpack = subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{layout}:{tag}", str(bundle)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert unpack.returncode == 0, unpack.stderr
    rootfs = bundle / "rootfs"
    assert not (rootfs / "usr/bin/yes").exists() and not (rootfs / "usr/bin/.wh.yes").exists()
    assert (rootfs / "bin/cat").exists() or (rootfs / "usr/bin/cat").exists()
    assert (rootfs / "opt/pre/run-marker").read_text() == "made-by-run\n"  # pre_install ran after run

    # a docker-archive carries the whiteout as a tar member in the run layer
    archive = tmp_path / "image.tar"
    with archive.open("wb") as out:
        subprocess.run([str(result.result_path)], stdout=out, check=True, timeout=300)
    with tarfile.open(archive) as outer:
        names = set()
        for member in outer.getmembers():
            if member.name.endswith(".tar") and member.isfile():
                with tarfile.open(fileobj=outer.extractfile(member)) as layer:
                    names |= set(layer.getnames())
    assert "usr/bin/.wh.yes" in names and "etc/run-marker" in names


def test_assemble_applies_whiteouts(tmp_path: Path) -> None:
    from cognix.engines.native.sandbox import assemble
    from cognix.image.plan import Entry

    lower, upper, dest = tmp_path / "lower", tmp_path / "upper", tmp_path / "dest"
    (lower / "usr/bin").mkdir(parents=True)
    (lower / "usr/bin/yes").write_text("y")
    (lower / "usr/bin/cat").write_text("c")
    (lower / "opt/d").mkdir(parents=True)
    (lower / "opt/d/f").write_text("f")
    (upper / "usr/bin").mkdir(parents=True)
    (upper / "usr/bin/.wh.yes").write_bytes(b"")
    (upper / "opt").mkdir()
    (upper / "opt/.wh.d").write_bytes(b"")
    dest.mkdir()
    entries = [Entry(name=n, root=str(r), size=0, references=[], digest=n) for n, r in [("l", lower), ("u", upper)]]
    assemble(entries, dest, link=False)
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) == ["opt", "usr", "usr/bin", "usr/bin/cat"]
