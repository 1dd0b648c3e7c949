"""`./result load` sends only the layers the engine lacks, and all of them when it can't tell or refuses."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from cognix.image import load as load_module
from cognix.image.archive import image_id_of
from cognix.image.load import held_chains, leading_held
from image_trees import make_plan, make_src_tree, make_system_tree


def test_leading_held_counts_the_chain_the_engine_holds() -> None:
    chains = {("a",), ("a", "b"), ("x",)}
    assert leading_held(["a", "b", "c"], chains) == 2
    assert leading_held(["a", "c", "b"], chains) == 1  # a chain, not a set: b on top of c is new
    assert leading_held(["b"], chains) == 0
    assert leading_held(["a", "b"], None) == 0 and leading_held(["a"], set()) == 0


def test_podman_and_silent_engines_tell_nothing(tmp_path: Path) -> None:
    podman = tmp_path / "podman"
    podman.write_text("#!/bin/sh\nexit 0\n")
    podman.chmod(0o755)
    assert held_chains(str(podman)) is None  # podman's load wants every layer file
    broken = tmp_path / "docker"
    broken.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    broken.chmod(0o755)
    assert held_chains(str(broken)) is None


def _docker() -> str:
    docker = shutil.which("docker")
    assert docker, "docker is not installed"
    return docker


def _file_in(docker: str, image: str, path: str) -> str:
    cid = subprocess.run([docker, "create", image, "x"], capture_output=True, text=True, timeout=60,
                         check=True).stdout.strip()
    try:
        out = subprocess.run([docker, "cp", f"{cid}:{path}", "-"], capture_output=True, timeout=60, check=True).stdout
    finally:
        subprocess.run([docker, "rm", "-f", cid], capture_output=True, timeout=60)
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(out)) as tar:
        member = tar.getmembers()[0]
        return tar.extractfile(member).read().decode()  # type: ignore[union-attr]


@pytest.mark.slow
def test_after_an_edit_only_the_changed_layer_is_sent(tmp_path: Path) -> None:
    docker = _docker()
    system = make_system_tree(tmp_path / "s")
    (system / "etc" / "unique").write_text(uuid.uuid4().hex)  # a chain the engine can't hold yet
    tag = f"cognix-test-load-{uuid.uuid4().hex[:8]}"
    first = make_plan(system, make_src_tree(tmp_path / "r1", "print('one')\n"), repo_tag=f"{tag}:1")
    second = make_plan(system, make_src_tree(tmp_path / "r2", "print('two')\n"), repo_tag=f"{tag}:2")
    try:
        loaded = load_module.load(first)
        assert (loaded.layers, loaded.layers_sent) == (2, 2) and loaded.image_id == image_id_of(first)
        again = load_module.load(second)
        assert (again.layers, again.layers_sent) == (2, 1) and again.image_id == image_id_of(second)
        inspect = subprocess.run([docker, "image", "inspect", f"{tag}:2"], capture_output=True, text=True,
                                 timeout=60, check=True)
        [image] = json.loads(inspect.stdout)
        assert image["Id"] == image_id_of(second) and len(image["RootFS"]["Layers"]) == 2
        assert _file_in(docker, f"{tag}:2", "/src/predict.py") == "print('two')\n"
        assert _file_in(docker, f"{tag}:2", "/etc/unique") == (system / "etc" / "unique").read_text()
    finally:
        subprocess.run([docker, "rmi", "-f", f"{tag}:1", f"{tag}:2"], capture_output=True, timeout=60)


@pytest.mark.slow
def test_a_refused_partial_archive_is_sent_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture) -> None:
    """The engine claimed a chain it no longer has (pruned since it was asked): the load is redone in full."""
    docker = _docker()
    system = make_system_tree(tmp_path / "s")
    (system / "etc" / "unique").write_text(uuid.uuid4().hex)
    tag = f"cognix-test-load-{uuid.uuid4().hex[:8]}:1"
    plan = make_plan(system, make_src_tree(tmp_path / "r"), repo_tag=tag)
    from cognix.image.config import epoch
    from cognix.image.layers import layer_infos

    diff_ids = [i.diff_id for i in layer_infos(plan.layers, epoch(plan.created), None)]
    monkeypatch.setattr(load_module, "held_chains", lambda engine: {tuple(diff_ids[:1])})
    try:
        loaded = load_module.load(plan)
        assert loaded.layers_sent == 2 and loaded.image_id == image_id_of(plan)
        assert "sending all" in capsys.readouterr().err
        assert _file_in(docker, tag, "/etc/unique") == (system / "etc" / "unique").read_text()
    finally:
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, timeout=60)
