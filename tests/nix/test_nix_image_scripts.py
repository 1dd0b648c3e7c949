"""nix/lib/image.nix's build-time scripts run here with bash, jq and this cognix (no Nix store, no sandbox): the spec
step, the customisation layer's system files (extraCommands, then fakeRootCommands under fakeroot), the schema step's
Env and the conf step merge what `cognix image-spec` says, so what the Nix image holds is the spec's."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from nixeval import REPO, needs_nix, nix_eval

from cognix.image import spec

pytestmark = [needs_nix, pytest.mark.skipif(shutil.which("jq") is None or shutil.which("fakeroot") is None,
                                            reason="needs jq and fakeroot")]

STORE = "/nix/store/" + "0" * 32
IMAGE = """let
  t = import ./nix/tests/lib.nix;
  runCommand = name: env: script: { inherit name env script; outPath = "%(store)s-${name}"; };
in (import ./nix/lib/image.nix {
  streamLayeredImage = t.recorder "base"; inherit runCommand; jq = "@JQ@"; runtimeShell = "/bin/sh"; cognixCli = "@CLI@";
} {
  name = "m"; pythonEnv = "@ENV@"; source = "@SRC@"; contents = [ ]; maxLayers = 3; epoch = 1700000000;
  specArgs = [ "@LOCK@" "--title" "m" "--user" "cog" "--environment" "{\\"EXTRA\\":\\"it's\\"}" ];
}).env.passthru"""


@pytest.fixture
def scripts(tmp_path: Path) -> dict:
    got = nix_eval(f"let p = {IMAGE % {'store': STORE}}; in {{ spec = p.spec.script; schema = p.schema.script; "
                   "extra = p.base.args.extraCommands; fakeroot = p.base.args.fakeRootCommands; conf = p.conf.script; }",
                   tmp_path)
    cli = tmp_path / "cli/bin/cognix"
    cli.parent.mkdir(parents=True)
    cli.write_text(f'#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -c "from cognix.cli.main import main; main()" "$@"\n')
    cli.chmod(0o755)
    jq = Path(shutil.which("jq")).parent.parent
    (tmp_path / "lock.json").write_text(json.dumps({"cognix": {
        "config": {"build": {"python_version": "3.11"}, "predict": "predict.py:Predictor", "environment": ["T=°C"]}}}))
    files = {"spec": tmp_path / "spec.json", "schema": tmp_path / "schema", "src": tmp_path / "src"}
    (files["schema"]).mkdir()
    (files["schema"] / "openapi_schema.json").write_text('{\n  "openapi": "3.0.2"\n}\n')
    files["src"].mkdir()
    (files["src"] / "predict.py").write_text("class Predictor: ...\n")

    def sub(text: str) -> str:
        for stub, real in ((f"{STORE}-m-image-spec.json", files["spec"]), (f"{STORE}-m-openapi.json", files["schema"]),
                           ("@CLI@", tmp_path / "cli"), ("@JQ@", jq), ("@LOCK@", tmp_path / "lock.json"),
                           ("@SRC@", files["src"]), ("@ENV@", tmp_path / "env")):
            text = text.replace(stub, str(real))
        return text

    return {"tmp": tmp_path, **{k: sub(v) for k, v in got.items()}}


def _bash(script: str, cwd: Path, env: dict | None = None, fakeroot: bool = False) -> str:
    command = ["fakeroot", "bash", "-c", script] if fakeroot else ["bash", "-c", script]
    proc = subprocess.run(command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _spec(scripts: dict) -> dict:
    _bash(scripts["spec"], scripts["tmp"], {"out": str(scripts["tmp"] / "spec.json")})
    return json.loads((scripts["tmp"] / "spec.json").read_text(encoding="utf-8"))


def test_the_layer_holds_the_specs_system_files(scripts: dict) -> None:
    data = _spec(scripts)
    layer = scripts["tmp"] / "layer"
    layer.mkdir()
    _bash(scripts["extra"], layer)
    for f in spec.system_spec().files:
        path = layer / f.path
        assert path.read_text(encoding="utf-8") == f.text and stat.S_IMODE(path.stat().st_mode) == int(f.mode, 8)
    for d in spec.system_spec().dirs:
        assert stat.S_IMODE((layer / d.path).stat().st_mode) == int(d.mode, 8), d.path
    assert [f["path"] for f in data["system"]["files"]] == [f.path for f in spec.system_spec().files]
    assert (layer / "src/predict.py").is_file() and (layer / "src/.cog/openapi_schema.json").is_file()
    # owners as fakeroot records them for the tar (numeric owners): HOME is the user's
    owners = _bash(scripts["fakeroot"] + "\nstat -c '%u %n' home/cog home/cog/.cache tmp", layer, fakeroot=True)
    assert owners.split("\n")[:3] == ["1000 home/cog", "1000 home/cog/.cache", "0 tmp"]


def test_the_schema_step_sees_the_specs_env(scripts: dict) -> None:
    _spec(scripts)
    python = scripts["tmp"] / "env/bin/python"
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\nprintf \'{"stub": "%s", "t": "%s", "ld": "%s"}\' "$COG_PREDICT_TYPE_STUB" "$T" '
                      '"${LD_LIBRARY_PATH:-unset}"\n')
    python.chmod(0o755)
    out = scripts["tmp"] / "schema-out"
    _bash(scripts["schema"], scripts["tmp"], {"out": str(out), "TMPDIR": str(scripts["tmp"])})
    assert json.loads((out / "openapi_schema.json").read_text(encoding="utf-8")) == {
        "stub": "predict.py:Predictor", "t": "°C", "ld": "unset"}


def test_the_conf_takes_layers_and_config_from_the_spec(scripts: dict) -> None:
    data = _spec(scripts)
    work = scripts["tmp"] / "conf"
    work.mkdir()
    paths = [f"/nix/store/{i:032d}-p{i}" for i in range(5)]
    base_conf = scripts["tmp"] / "x-conf.json"
    base_conf.write_text(json.dumps({"store_layers": [[p] for p in paths], "config": {}, "created": "x"}))
    (scripts["tmp"] / "base").write_text(f'exec stream "{base_conf}"\n')
    (work / ".attrs.json").write_text(json.dumps({"graph": [{"path": p, "narSize": s} for p, s in
                                                            zip(paths, [100, 1, 2, 50, 3])]}))
    (work / ".attrs.sh").write_text(f"declare -A outputs=([out]={work / 'out.json'})\n")
    script = scripts["conf"].replace(f"{STORE}-base", str(scripts["tmp"] / "base"))
    _bash(script, work)
    conf = json.loads((work / "out.json").read_text(encoding="utf-8"))
    assert conf["store_layers"] == [[paths[0]], [paths[1], paths[2], paths[3], paths[4]]]  # 3 layers: 2 + /src
    assert conf["created"] == "x"  # the rest of nixpkgs' conf kept
    assert conf["config"]["Env"] == data["config"]["Env"] and "EXTRA=it's" in conf["config"]["Env"]
    assert conf["config"]["Labels"]["run.cog.openapi_schema"] == '{"openapi":"3.0.2"}'
    assert conf["config"]["Labels"]["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"
    assert {k: v for k, v in conf["config"]["Labels"].items() if k != "run.cog.openapi_schema"} == \
        data["config"]["Labels"]


def test_the_layer_holds_the_specs_weights_manifest(scripts: dict) -> None:
    """A lock with runtime-mode weights: /src/.cog/weights.json is manifest_bytes(manifest_for(lock))."""
    from cognix.lock.model import Lock
    from cognix.weights.manifest import manifest_bytes, manifest_for

    section = json.loads((REPO / "nix/tests/fixtures/weights-model/lock.json").read_text())["cognix"]
    (scripts["tmp"] / "lock.json").write_text(json.dumps({"cognix": section}))
    _spec(scripts)
    layer = scripts["tmp"] / "layer"
    layer.mkdir()
    _bash(scripts["extra"], layer)
    assert (layer / "src/.cog/weights.json").read_bytes() == manifest_bytes(manifest_for(Lock.model_validate(section)))


def test_no_runtime_weights_no_manifest(scripts: dict) -> None:
    _spec(scripts)
    layer = scripts["tmp"] / "layer"
    layer.mkdir()
    _bash(scripts["extra"], layer)
    assert not (layer / "src/.cog/weights.json").exists()
