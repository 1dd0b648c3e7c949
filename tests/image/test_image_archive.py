"""Image config, docker-archive stream and OCI layout: structure and determinism; real Docker/skopeo/umoci."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from image_trees import make_plan, make_src_tree, make_system_tree

from cognix.errors import ImageError
from cognix.image.archive import (
    image_id_of,
    split_repo_tag,
    stream_docker_archive,
    write_oci_layout,
)
from cognix.image.config import config_bytes, epoch
from cognix.image.plan import ImagePlan


def _archive(plan: ImagePlan) -> bytes:
    out = io.BytesIO()
    stream_docker_archive(plan, out)
    return out.getvalue()


def test_epoch_and_bad_timestamp() -> None:
    assert epoch("1970-01-01T00:00:01Z") == 1
    assert epoch("2024-01-02T03:04:05+00:00") == 1704164645
    with pytest.raises(ImageError, match="timestamp"):
        epoch("yesterday")


def test_config_json(plan: ImagePlan) -> None:
    data = config_bytes(plan, ["sha256:" + "a" * 64, "sha256:" + "b" * 64])
    assert data == json.dumps(json.loads(data), sort_keys=True, separators=(",", ":")).encode()
    config = json.loads(data)
    assert config["architecture"] == "amd64" and config["os"] == "linux"
    assert config["created"] == "1970-01-01T00:00:01Z"
    assert config["rootfs"] == {"type": "layers", "diff_ids": ["sha256:" + "a" * 64, "sha256:" + "b" * 64]}
    assert [h["comment"] for h in config["history"]] == ["deb/system", "src"]
    inner = config["config"]
    assert inner["Entrypoint"] == ["/usr/bin/tini", "--"]
    assert inner["ExposedPorts"] == {"5000/tcp": {}}
    assert inner["WorkingDir"] == "/src" and inner["User"] == "1000"
    assert inner["Labels"]["run.cog.version"] == "0.1.0"


def test_split_repo_tag() -> None:
    assert split_repo_tag("a/b:c") == ("a/b", "c")
    assert split_repo_tag("localhost:5000/b") == ("localhost:5000/b", "latest")
    assert split_repo_tag("b") == ("b", "latest")


def test_docker_archive_layout_and_determinism(plan: ImagePlan, tmp_path: Path) -> None:
    data = _archive(plan)
    assert data == _archive(plan)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())  # type: ignore[union-attr]
        [entry] = manifest
        assert entry["RepoTags"] == ["cognix-test-image:latest"]
        config_data = archive.extractfile(entry["Config"]).read()  # type: ignore[union-attr]
        config = json.loads(config_data)
        assert entry["Config"] == hashlib.sha256(config_data).hexdigest() + ".json"
        assert "sha256:" + entry["Config"].removesuffix(".json") == image_id_of(plan)
        for name, diff_id in zip(entry["Layers"], config["rootfs"]["diff_ids"]):
            layer = archive.extractfile(name).read()  # type: ignore[union-attr]
            assert name == diff_id.removeprefix("sha256:") + "/layer.tar"
            assert "sha256:" + hashlib.sha256(layer).hexdigest() == diff_id
        for member in archive.getmembers():
            assert (member.mtime, member.uid, member.gid) == (1, 0, 0)


def test_same_plan_elsewhere_same_image_id(tmp_path: Path) -> None:
    one = make_plan(make_system_tree(tmp_path / "s1", mtime=5), make_src_tree(tmp_path / "r1"))
    other = make_plan(make_system_tree(tmp_path / "s2", file_mode=0o600, mtime=9), make_src_tree(tmp_path / "r2"))
    assert image_id_of(one) == image_id_of(other)
    assert _archive(one) == _archive(other)
    edited = make_plan(make_system_tree(tmp_path / "s3"), make_src_tree(tmp_path / "r3", text="print(2)\n"))
    assert image_id_of(edited) != image_id_of(one)


def _read_blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


def test_oci_layout_structure_and_determinism(plan: ImagePlan, tmp_path: Path) -> None:
    first = write_oci_layout(plan, tmp_path / "oci")
    index = json.loads((tmp_path / "oci" / "index.json").read_text())
    [descriptor] = index["manifests"]
    assert descriptor["digest"] == first.manifest_digest
    assert descriptor["annotations"]["org.opencontainers.image.ref.name"] == "latest"
    assert json.loads((tmp_path / "oci" / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    manifest = json.loads(_read_blob(tmp_path / "oci", first.manifest_digest))
    assert manifest["config"]["digest"] == first.image_id == image_id_of(plan)
    for layer in manifest["layers"]:
        blob = _read_blob(tmp_path / "oci", layer["digest"])
        assert len(blob) == layer["size"] and "sha256:" + hashlib.sha256(blob).hexdigest() == layer["digest"]
    before = sorted(p.name for p in (tmp_path / "oci" / "blobs" / "sha256").iterdir())
    assert len(before) == 4  # two layers, config, manifest
    # Written again (over the old one, atomically): identical bytes, no temp dirs left.
    shutil.rmtree(os.environ["COGNIX_CACHE_DIR"])
    assert write_oci_layout(plan, tmp_path / "oci") == first
    assert sorted(p.name for p in (tmp_path / "oci" / "blobs" / "sha256").iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_oci_layout_refuses_a_foreign_directory(plan: ImagePlan, tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "precious").write_text("keep me")
    with pytest.raises(ImageError, match="not an OCI layout"):
        write_oci_layout(plan, tmp_path / "home")
    assert (tmp_path / "home" / "precious").read_text() == "keep me"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is not installed (Debian package {name}; see scripts/apt-packages.txt)")
    return path


@pytest.mark.slow
def test_skopeo_and_umoci_accept_the_layout(plan: ImagePlan, tmp_path: Path) -> None:
    result = write_oci_layout(plan, tmp_path / "oci")
    out = subprocess.run(
        [_tool("skopeo"), "inspect", f"oci:{tmp_path / 'oci'}:latest"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["Digest"] == result.manifest_digest
    assert info["Labels"]["run.cog.version"] == "0.1.0" and len(info["Layers"]) == 2
    bundle = tmp_path / "bundle"
    out = subprocess.run(
        [_tool("umoci"), "unpack", "--rootless", "--image", f"{tmp_path / 'oci'}:latest", str(bundle)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    rootfs = bundle / "rootfs"
    assert (rootfs / "src" / "predict.py").read_text() == "print('hello')\n"
    assert os.readlink(rootfs / "usr" / "lib" / "libx.so") == "libx.so.1"
    assert os.stat(rootfs / "usr" / "bin" / "tool").st_mode & 0o7777 == 0o755


@pytest.mark.slow
def test_docker_loads_the_archive(tmp_path: Path) -> None:
    docker = _tool("docker")
    plan = make_plan(
        make_system_tree(tmp_path / "s"), make_src_tree(tmp_path / "r"), repo_tag="cognix-test-archive:loaded"
    )
    try:
        out = subprocess.run([docker, "load"], input=_archive(plan), capture_output=True, timeout=120)
        assert out.returncode == 0, out.stderr
        inspect = subprocess.run(
            [docker, "image", "inspect", plan.repo_tag], capture_output=True, text=True, timeout=60
        )
        assert inspect.returncode == 0, inspect.stderr
        [image] = json.loads(inspect.stdout)
        config = json.loads(config_bytes(plan, image["RootFS"]["Layers"]))
        assert image["Id"] == image_id_of(plan)
        assert image["Config"]["Labels"] == plan.config.labels
        assert image["Config"]["Entrypoint"] == config["config"]["Entrypoint"]
        assert image["Config"]["ExposedPorts"] == {"5000/tcp": {}}
        assert image["Architecture"] == "amd64" and len(image["RootFS"]["Layers"]) == 2
    finally:
        subprocess.run([docker, "rmi", "-f", plan.repo_tag], capture_output=True, timeout=60)
