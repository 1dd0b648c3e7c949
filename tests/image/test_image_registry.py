"""Pushing over the OCI distribution API: references, docker-config credentials, a real local registry."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from image_trees import make_plan, make_src_tree, make_system_tree

from cognix.errors import ImageError
from cognix.image.archive import write_oci_layout
from cognix.image.registry import Reference, parse_reference, push
from cognix.image.registry_client import credentials


def test_parse_reference() -> None:
    assert parse_reference("localhost:5000/me/model:v1") == Reference("localhost:5000", "me/model", "v1")
    assert parse_reference("127.0.0.1:5000/model") == Reference("127.0.0.1:5000", "model", "latest")
    assert parse_reference("r.example.com/a/b@sha256:" + "0" * 64).tag == "sha256:" + "0" * 64
    with pytest.raises(ImageError, match="no registry host"):
        parse_reference("model:latest")
    with pytest.raises(ImageError, match="invalid repository"):
        parse_reference("localhost:5000/Model")


def test_credentials_from_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    auth = base64.b64encode(b"me:s3cret:with-colon").decode()
    (tmp_path / "config.json").write_text(
        json.dumps({"auths": {"https://r.example.com/v1/": {"auth": auth}, "other.example.com": {"username": "u", "password": "p"}}})
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert credentials("r.example.com") == ("me", "s3cret:with-colon")
    assert credentials("other.example.com") == ("u", "p")
    assert credentials("nowhere.example.com") is None


def test_unreachable_registry_is_an_image_error(plan, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(ImageError, match="cannot reach registry"):
        push(plan, f"127.0.0.1:{port}/model:latest")


@pytest.mark.slow
def test_push_uploads_only_missing_blobs(local_registry: str, tmp_path: Path) -> None:
    system = make_system_tree(tmp_path / "system")
    plan = make_plan(system, make_src_tree(tmp_path / "src1"))
    ref = f"{local_registry}/cognix/model:v1"

    first = push(plan, ref)
    assert len(first.uploaded) == 3 and first.skipped == []  # two layers + config
    layout = write_oci_layout(plan, tmp_path / "oci")
    assert first.manifest_digest == layout.manifest_digest  # same manifest bytes as the OCI layout

    again = push(plan, ref)
    assert again.uploaded == [] and sorted(again.skipped) == sorted(first.uploaded)
    assert again.manifest_digest == first.manifest_digest

    edited = make_plan(system, make_src_tree(tmp_path / "src2", text="print('edited')\n"))
    third = push(edited, f"{local_registry}/cognix/model:v2")
    assert len(third.uploaded) == 2  # the changed layer and the config
    assert third.skipped == [first.uploaded[0]]  # the system layer
    assert third.manifest_digest != first.manifest_digest

    response = httpx.get(
        f"http://{local_registry}/v2/cognix/model/manifests/v2",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert response.status_code == 200 and response.headers["docker-content-digest"] == third.manifest_digest

    skopeo = shutil.which("skopeo")
    assert skopeo, "skopeo is not installed"
    out = subprocess.run(
        [skopeo, "inspect", "--tls-verify=false", f"docker://{local_registry}/cognix/model:v2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["Digest"] == third.manifest_digest and info["Labels"]["run.cog.version"] == "0.1.0"


@pytest.mark.slow
def test_docker_pulls_the_pushed_image(local_registry: str, tmp_path: Path) -> None:
    from cognix.image.archive import image_id_of

    docker = shutil.which("docker")
    assert docker, "docker is not installed"
    plan = make_plan(make_system_tree(tmp_path / "s"), make_src_tree(tmp_path / "r"))
    ref = f"{local_registry}/cognix/pulled:v1"
    push(plan, ref)
    try:
        out = subprocess.run([docker, "pull", ref], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        image_id = subprocess.run(
            [docker, "image", "inspect", "--format", "{{.Id}}", ref], capture_output=True, text=True, timeout=60
        ).stdout.strip()
        assert image_id == image_id_of(plan)  # same image ID as `./result load` gives
    finally:
        subprocess.run([docker, "rmi", "-f", ref], capture_output=True, timeout=60)


def test_bearer_token_flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cognix.image.registry_client import Client

    (tmp_path / "config.json").write_text(json.dumps({"auths": {"r.example.com": {"username": "me", "password": "pw"}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    seen: list[tuple[str, str | None]] = []

    def registry(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("authorization")))
        if request.url.host == "auth.example.com":
            assert request.headers["authorization"] == "Basic " + base64.b64encode(b"me:pw").decode()
            assert request.url.params["scope"] == "repository:me/model:pull,push"
            assert request.url.params["service"] == "reg"
            return httpx.Response(200, json={"token": "T0KEN"})
        if request.headers.get("authorization") != "Bearer T0KEN":
            challenge = 'Bearer realm="https://auth.example.com/token",service="reg",scope="repository:me/model:pull,push"'
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        return httpx.Response(404)

    client = Client(parse_reference("r.example.com/me/model:v1"), False, transport=httpx.MockTransport(registry))
    assert client.base == "https://r.example.com/v2/me/model"
    assert client.has_blob("sha256:" + "0" * 64) is False
    assert [auth for _, auth in seen] == [None, seen[1][1], "Bearer T0KEN"]
    assert client.has_blob("sha256:" + "1" * 64) is False  # the token is reused
    assert seen[-1][1] == "Bearer T0KEN" and len(seen) == 4


@pytest.mark.slow
def test_zstd_push_is_deterministic_and_unpacks_to_the_same_layers(local_registry: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    import zstandard

    from cognix.image.compress import Compression

    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    plan = make_plan(make_system_tree(tmp_path / "s"), make_src_tree(tmp_path / "r"))
    gz = push(plan, f"{local_registry}/cognix/zst:gzip")
    first = push(plan, f"{local_registry}/cognix/zst:zstd", compression=Compression.ZSTD)
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "other-cache"))  # compressed again, from nothing
    again = push(plan, f"{local_registry}/cognix/zst2:zstd", compression=Compression.ZSTD)
    assert again.manifest_digest == first.manifest_digest != gz.manifest_digest
    base = f"http://{local_registry}/v2/cognix/zst"
    manifest = httpx.get(f"{base}/manifests/zstd", headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}).json()
    assert {layer["mediaType"] for layer in manifest["layers"]} == {"application/vnd.oci.image.layer.v1.tar+zstd"}
    config = httpx.get(f"{base}/blobs/{manifest['config']['digest']}").json()
    unpacked = []
    for layer in manifest["layers"]:
        blob = httpx.get(f"{base}/blobs/{layer['digest']}").content
        tar = zstandard.ZstdDecompressor().stream_reader(blob).read()
        unpacked.append("sha256:" + hashlib.sha256(tar).hexdigest())
    assert unpacked == config["rootfs"]["diff_ids"]  # the same layers as the gzip image's, byte for byte
