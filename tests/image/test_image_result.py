"""./result: written atomically, and its commands (help, id, dump, oci, push, load) run as a real subprocess."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cognix.image import result as result_module
from cognix.image.archive import image_id_of, stream_docker_archive
from cognix.image.plan import ImagePlan
from cognix.image.result import write_result


def _run(script: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(script), *args], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_result_is_an_executable_python_script(plan: ImagePlan, tmp_path: Path) -> None:
    script = write_result(plan, tmp_path / "result")
    text = script.read_text()
    assert text.startswith(f"#!{sys.executable}\n")
    assert os.access(script, os.X_OK)
    help_run = _run(script, "--help")
    assert help_run.returncode == 0 and b"push" in help_run.stdout and b"load" in help_run.stdout
    id_run = _run(script, "id")
    assert id_run.returncode == 0 and id_run.stdout.decode().strip() == image_id_of(plan)


def test_result_streams_the_docker_archive(plan: ImagePlan, tmp_path: Path) -> None:
    script = write_result(plan, tmp_path / "result")
    expected = io.BytesIO()
    stream_docker_archive(plan, expected)
    assert _run(script).stdout == expected.getvalue()  # stdout is a pipe: dump by default
    assert _run(script, "dump").stdout == expected.getvalue()


def test_result_writes_an_oci_layout(plan: ImagePlan, tmp_path: Path) -> None:
    script = write_result(plan, tmp_path / "result")
    run = _run(script, "oci", str(tmp_path / "oci"))
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "oci" / "index.json").read_text())["manifests"]


def test_result_errors_are_messages_not_tracebacks(plan: ImagePlan, tmp_path: Path) -> None:
    script = write_result(plan, tmp_path / "result")
    run = _run(script, "push", "no-registry-host")
    assert run.returncode == 1
    assert run.stderr.startswith(b"error: ") and b"Traceback" not in run.stderr
    assert _run(script, "frobnicate").returncode == 2


def test_failed_write_keeps_the_previous_result(
    plan: ImagePlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = write_result(plan, tmp_path / "result")
    before = script.read_bytes()
    edited = plan.model_copy(update={"repo_tag": "other:tag"})

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(result_module.os, "replace", broken)
    from cognix.errors import ImageError

    with pytest.raises(ImageError, match="No space left"):
        write_result(edited, tmp_path / "result")
    assert script.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["result", "system", "srcentry"])


@pytest.mark.slow
def test_result_push(plan: ImagePlan, local_registry: str, tmp_path: Path) -> None:
    script = write_result(plan, tmp_path / "result")
    first = _run(script, "push", f"{local_registry}/cognix/result:v1")
    assert first.returncode == 0, first.stderr
    assert b"3 blobs uploaded, 0 already there" in first.stdout
    again = _run(script, "push", f"{local_registry}/cognix/result:v1")
    assert b"0 blobs uploaded, 3 already there" in again.stdout


@pytest.mark.slow
def test_result_load(tmp_path: Path) -> None:
    from image_trees import make_plan, make_src_tree, make_system_tree

    docker = shutil.which("docker")
    assert docker, "docker is not installed"
    plan = make_plan(make_system_tree(tmp_path / "s"), make_src_tree(tmp_path / "r"), repo_tag="cognix-test-result:v1")
    script = write_result(plan, tmp_path / "result")
    try:
        run = _run(script, "load")
        assert run.returncode == 0, run.stderr
        assert run.stdout.decode().strip() == f"Loaded image cognix-test-result:v1 ({image_id_of(plan)})"
        inspect = subprocess.run(
            [docker, "image", "inspect", "--format", "{{.Id}}", plan.repo_tag], capture_output=True, text=True, timeout=60
        )
        assert inspect.stdout.strip() == image_id_of(plan)
    finally:
        subprocess.run([docker, "rmi", "-f", plan.repo_tag], capture_output=True, timeout=60)


def test_load_without_a_reachable_daemon_is_an_image_error(plan: ImagePlan, monkeypatch: pytest.MonkeyPatch) -> None:
    from cognix.errors import ImageError
    from cognix.image import load as load_module

    if shutil.which("docker") is None:
        pytest.fail("docker is not installed")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(ImageError, match="load` failed") as err:
        load_module.load(plan)
    assert "docker" in err.value.message.lower()


def test_load_without_any_engine(plan: ImagePlan, monkeypatch: pytest.MonkeyPatch) -> None:
    from cognix.errors import ImageError
    from cognix.image import load as load_module

    monkeypatch.setattr(load_module.shutil, "which", lambda name: None)
    with pytest.raises(ImageError, match="neither docker nor podman"):
        load_module.load(plan)


def test_result_refuses_to_write_to_a_terminal(plan: ImagePlan, tmp_path: Path) -> None:
    import pty

    script = write_result(plan, tmp_path / "result")
    leader, follower = pty.openpty()
    try:
        run = subprocess.run([str(script)], stdout=follower, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(follower)
        os.close(leader)
    assert run.returncode == 2 and b"refusing to write an image archive to a terminal" in run.stderr
