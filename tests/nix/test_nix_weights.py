"""nix/lib/weights.nix against the native engine's Python (cognix.weights) on one fixture lock, and
`./result push` from nix/lib/image.nix against a real local registry."""

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
from nixeval import REPO, needs_nix, nix_eval, nix_eval_error

from cognix.errors import WeightsError
from cognix.lock.model import Lock
from cognix.weights.layers import LARGE_FILE, layer_groups, source_exclusions
from cognix.weights.manifest import manifest_bytes, manifest_for

pytestmark = needs_nix

FIXTURE = REPO / "nix/tests/fixtures/weights-model"
W = "(import ./nix/lib/weights.nix { fetchurl = a: a; runCommand = n: e: s: s; })"
LOCK_WEIGHTS = "(builtins.fromJSON (builtins.readFile ./nix/tests/fixtures/weights-model/lock.json)).cognix.weights"


def _lock(weights: list[dict] | None = None) -> Lock:
    data = json.loads((FIXTURE / "lock.json").read_text())["cognix"]
    if weights is not None:
        data["weights"] = weights
    return Lock.model_validate(data)


def test_manifest_bytes_equal_the_python_engine(tmp_path: Path) -> None:
    """The file the Nix image ships (the spec's weights.manifest_text, from the lock mkCognixImage hands
    `cognix image-spec`) is byte-for-byte manifest_bytes(manifest_for(lock))."""
    from click.testing import CliRunner

    from cognix.cli.main import cli

    lock = nix_eval("(let stubs = import ./nix/tests/stub-pkgs.nix; lib = import ./nix/lib { inherit (stubs) pkgs "
                    'dream2nix; cognixSrc = "/cognix-src"; }; in lib.mkCognixImage { modelDir = '
                    './nix/tests/fixtures/weights-model; name = "w"; }).imageSpec.lock', tmp_path)
    (tmp_path / "lock.json").write_text(json.dumps(lock))
    out = CliRunner().invoke(cli, ["image-spec", str(tmp_path)], catch_exceptions=False).output
    assert json.loads(out)["weights"]["manifest_text"].encode() == manifest_bytes(manifest_for(_lock()))


def test_compact_to_json_equals_sorted_compact_dumps(tmp_path: Path) -> None:
    """builtins.toJSON on the manifest = json.dumps(sort_keys=True, separators=(",", ":"))."""
    text = nix_eval(f"builtins.toJSON ({W}.manifest {{ weights = {LOCK_WEIGHTS}; }})", tmp_path)
    expected = json.dumps(manifest_for(_lock()), sort_keys=True, separators=(",", ":"))
    assert text == expected
    assert text.startswith('{"files":[{"dest":"/src/local/rt.bin"')


def test_layer_groups_match_python(tmp_path: Path) -> None:
    groups = nix_eval(f"map (g: {{ inherit (g) name; paths = map (m: m.imagePath) g.members; }}) ({W}.layerGroups {LOCK_WEIGHTS})", tmp_path)
    expected = [{"name": name, "paths": [p for p, _ in members]} for name, members in layer_groups(_lock())]
    assert groups == expected
    assert nix_eval(f"{W}.LARGE_FILE", tmp_path) == LARGE_FILE


def test_source_exclusions_match_python(tmp_path: Path) -> None:
    assert nix_eval(f"{W}.sourceExclusions {LOCK_WEIGHTS}", tmp_path) == source_exclusions(_lock())


def test_unpushed_runtime_weights_fail_like_python(tmp_path: Path) -> None:
    weights = [{"src": "w", "dest": "/src/w", "mode": "runtime", "files": [
        {"path": "a.bin", "size": 1, "sha256": "0" * 64, "source": "w/a.bin"}]}]
    with pytest.raises(WeightsError, match="cognix weights push"):
        manifest_for(_lock(weights))
    err = nix_eval_error(f"{W}.manifest {{ weights = builtins.fromJSON ''{json.dumps(weights)}''; relPath = \"models/w\"; }}", tmp_path)
    assert "models/w: runtime-mode weights not pushed yet: w/a.bin" in err
    assert "run `cognix weights push models/w`" in err


def test_changed_local_weight_fails_evaluation(tmp_path: Path) -> None:
    """builtins.path with recursive = false checks the lock's flat sha256 of a model-dir file."""
    ok = nix_eval(f"{W}.fileSource ./nix/tests/fixtures/weights-model (builtins.elemAt (builtins.elemAt {LOCK_WEIGHTS} 0).files 0)", tmp_path)
    local = hashlib.sha256((FIXTURE / "weights/tok.json").read_bytes()).hexdigest()
    assert ok.startswith("/nix/store/") and ok.endswith("-w-tok.json")
    # a flat (not NAR) content address: the same path as `nix-store --add-fixed sha256` would give
    assert local in (FIXTURE / "lock.json").read_text()
    err = nix_eval_error(
        f"{W}.fileSource ./nix/tests/fixtures/weights-model ((builtins.elemAt (builtins.elemAt {LOCK_WEIGHTS} 0).files 0) // {{ sha256 = \"{'1' * 64}\"; }})",
        tmp_path)
    assert "store path mismatch" in err and "tok.json" in err


def _docker_archive(path: Path) -> None:
    """A minimal one-layer docker-archive (what nixpkgs' stream script writes)."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = b"hello\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    layer_bytes = layer.getvalue()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer_bytes).hexdigest()]}}).encode()
    manifest = json.dumps([{"Config": "config.json", "RepoTags": ["x:latest"], "Layers": ["layer.tar"]}]).encode()
    with tarfile.open(path, "w") as tar:
        for name, body in (("layer.tar", layer_bytes), ("config.json", config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))


@pytest.mark.slow
def test_result_push_copies_the_stream_to_a_registry(tmp_path: Path, local_registry: str) -> None:
    """The wrapper image.nix writes, run for real: the stream script's archive lands in a registry via skopeo."""
    if shutil.which("skopeo") is None:
        pytest.fail("skopeo is not installed (Debian package skopeo)")
    archive = tmp_path / "image.tar"
    _docker_archive(archive)
    stream = tmp_path / "fake-stream"  # stands in for nixpkgs' stream script (matched by -stream)
    stream.write_text(f"#!/bin/sh\ncat {archive}\n")
    stream.chmod(0o755)
    base = tmp_path / "base"  # nixpkgs' streamLayeredImage output names its stream script
    base.write_text(f'exec "{stream}" "$@"\n')
    expr = (
        'let t = import ./nix/tests/lib.nix; in (import ./nix/lib/image.nix { '
        f'streamLayeredImage = a: t.recorder "s" a // {{ outPath = "{base}"; }}; '
        'runCommand = name: env: script: { inherit name env script; outPath = "/nix/store/conf"; }; '
        'jq = "jq"; runtimeShell = "/bin/sh"; } { name = "m"; pythonEnv = "/e"; source = "/s"; '
        'contents = [ ]; specArgs = [ ]; maxLayers = 10; }).script'
    )
    script = nix_eval(expr, tmp_path)
    out = tmp_path / "result"
    subprocess.run(["bash", "-c", script], env={**os.environ, "out": str(out)}, check=True, timeout=30)
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    usage = subprocess.run([str(out), "push"], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert usage.returncode == 2 and "push REF" in usage.stderr
    ref = f"{local_registry}/cognix/nixpush:v1"
    proc = subprocess.run([str(out), "push", ref, "--dest-tls-verify=false"], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert not list(tmp_path.glob("cognix-push.*")), "the temp archive is removed"
    inspect = subprocess.run(["skopeo", "--insecure-policy", "inspect", "--tls-verify=false", f"docker://{ref}"],
                             capture_output=True, text=True, timeout=60, check=True)
    assert len(json.loads(inspect.stdout)["Layers"]) == 1
