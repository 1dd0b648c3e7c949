"""The Nix engine's image spec against the native engine's: nix/lib/default.nix hands `cognix image-spec` a lock and
arguments (evaluated here with the stub nixpkgs); run on them, the CLI gives the native spec's config, system files
and layers, the store paths aside. And the CLI reads the conf derivation's inputs (nixpkgs' conf.json, the closure's
exportReferencesGraph) as original cognix's coalesce-layers.py did."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from nixeval import needs_nix, nix_eval

from cognix.cli.main import cli
from cognix.config import load_config
from cognix.engines.native.plan import spec_inputs
from cognix.image import spec

pytestmark = needs_nix

IMAGE = ('(let stubs = import ./nix/tests/stub-pkgs.nix; lib = import ./nix/lib { inherit (stubs) pkgs dream2nix; '
         'cognixSrc = "/cognix-src"; }; in lib.mkCognixImage { modelDir = ./nix/tests/fixtures/nix-model; '
         'name = "nix-model"; %s })')
TINI = "/nix/store/00000000000000000000000000000000-tini/bin/tini"


def _run(args: list[str]) -> dict:
    result = CliRunner().invoke(cli, ["image-spec", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _nix_spec(tmp_path: Path, modules: str = "") -> tuple[dict, dict]:
    """(the lock the Nix engine writes for the spec, the spec `cognix image-spec` prints on its arguments)."""
    image = nix_eval(f"{IMAGE % modules}.imageSpec", tmp_path)
    lock_file = tmp_path / "spec-lock.json"
    lock_file.write_text(json.dumps(image["lock"], ensure_ascii=False), encoding="utf-8")
    args = [str(lock_file), *image["args"][1:], "--max-layers", "50", "--epoch", "1700000000"]
    return image["lock"]["cognix"], _run(args)


def _native(tmp_path: Path, section: dict, **kw) -> spec.ImageSpec:
    model = tmp_path / "native"
    model.mkdir()
    (model / "cog.yaml").write_text(json.dumps(section["config"], ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    (model / "predict.py").write_text("")
    target = section.get("target") or {}
    inputs = spec_inputs(load_config(model), title="nix-model", schema=None, revision=None,
                         created=spec.rfc3339(1700000000), cuda=target.get("cuda"), cudnn=target.get("cudnn"),
                         weights=spec.weights_spec([]), **kw)
    return spec.spec_for(inputs)


def test_the_nix_engines_spec_is_the_native_one(tmp_path: Path) -> None:
    section, nix = _nix_spec(tmp_path)
    native = _native(tmp_path, section).to_json()
    assert nix["config"]["Entrypoint"] == [TINI, "--"]
    nix["config"]["Entrypoint"] = native["config"]["Entrypoint"]  # store paths aside
    assert nix == native
    # what the Nix engine's image config was before the spec (nix/lib/image-config.nix), kept
    assert nix["config"]["Env"] == [
        "A=1", "COG_MAX_CONCURRENCY=4", "COG_PREDICT_TYPE_STUB=predict.py:Predictor", "LANG=C.UTF-8",
        "LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/nvidia/lib",
        "NVIDIA_DRIVER_CAPABILITIES=all", "NVIDIA_VISIBLE_DEVICES=all",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONUNBUFFERED=1"]
    labels = nix["config"]["Labels"]
    assert labels["org.opencontainers.image.title"] == "nix-model" and nix["config"]["User"] == "cog"
    assert labels["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"
    # a GPU model's run.cog.config has the lock's CUDA, as the native engine's (image-config.nix left it out)
    assert json.loads(labels["run.cog.config"])["build"]["cuda"] == "12.1"


def test_module_settings_reach_the_spec(tmp_path: Path) -> None:
    """cognix.user = "", cognix.environment and cognix.revision as default.nix passes them (nix/tests/mk-image.nix checks
    the arguments; the stub module system's options are fixed): the spec's User, HOME's owner, Env and labels."""
    section, _ = _nix_spec(tmp_path)
    lock_file = tmp_path / "spec-lock.json"
    out = _run([str(lock_file), "--title", "nix-model", "--user", "", "--revision", "abc", "--tini", TINI,
                "--environment", json.dumps({"EXTRA": "it's"}), "--max-layers", "50", "--epoch", "1700000000"])
    native = _native(tmp_path, section, root_user=True)
    assert out["config"]["User"] == "" == native.config["User"]
    assert "EXTRA=it's" in out["config"]["Env"] and out["config"]["Labels"]["org.opencontainers.image.revision"] == "abc"
    assert {d["path"]: d["owner"] for d in out["system"]["dirs"]}["home/cog"] == 0


def test_cli_reads_nixpkgs_conf_and_graph(tmp_path: Path) -> None:
    """`cognix image-spec --conf conf.json --graph .attrs.json`: what the conf derivation has at build time."""
    store_layers = [[f"/nix/store/{i:032d}-p{i}"] for i in range(8)] + [["/nix/store/" + "9" * 32 + "-rest"]]
    graph = [{"path": p[0], "narSize": (i * 37) % 11, "references": []} for i, p in enumerate(store_layers[:-1])]
    (tmp_path / "conf.json").write_text(json.dumps({"store_layers": store_layers}))
    (tmp_path / "attrs.json").write_text(json.dumps({"graph": graph}))
    (tmp_path / "lock.json").write_text(json.dumps({"cognix": {"config": {"build": {"python_version": "3.11"}}}}))
    out = _run([str(tmp_path), "--conf", str(tmp_path / "conf.json"), "--graph", str(tmp_path / "attrs.json"),
                "--max-layers", "5"])
    sizes = {g["path"]: g["narSize"] for g in graph}
    want = spec.group_layers([spec.Candidate(p, sizes.get(p, 0)) for layer in store_layers for p in layer], 4)
    assert [g["paths"] for g in out["layers"]] == [list(g.paths) for g in want] and len(want) == 4
    assert [p for g in out["layers"] for p in g["paths"]] == [layer[0] for layer in store_layers]  # order kept
    result = CliRunner().invoke(cli, ["image-spec", str(tmp_path), "--conf", str(tmp_path / "conf.json")])
    assert result.exit_code == 1 and "go together" in result.output
