"""What the Nix engine computes today (nix/lib/layers.nix, nix/lib/image-config.nix) against the image spec
(cognix.image.spec), which is to replace them: the merge rule agrees; the config's known gaps are named here so the
change that makes the Nix engine read the spec (issue 11, phase B) removes them from this list."""

from __future__ import annotations

import json
import random
from pathlib import Path

from nixeval import REPO, needs_nix, nix_eval

from cognix.image import spec

pytestmark = needs_nix


def _cases() -> list[tuple[list[tuple[str, int]], int]]:
    rng = random.Random(11)
    cases = []
    for _ in range(40):
        n = rng.randint(1, 25)
        paths = [(f"/nix/store/{i:032d}-p{i}", rng.choice([0, 1, 2, 7, 100, rng.randint(0, 10**9)])) for i in range(n)]
        cases.append((paths, rng.randint(1, n + 2)))
    return cases


def test_layers_nix_merges_as_the_spec_does(tmp_path: Path) -> None:
    """Smallest adjacent pair first, the first on ties: nix/lib/layers.nix's coalesce = spec.group_layers."""
    cases = _cases()
    data = json.dumps([{"paths": [{"path": p, "size": s} for p, s in paths], "maxLayers": m} for paths, m in cases])
    got = nix_eval(f"map (c: (import ./nix/lib/layers.nix).coalesce c) (builtins.fromJSON ''{data}'')", tmp_path)
    want = [[list(g.paths) for g in spec.group_layers([spec.Candidate(p, s) for p, s in paths], m)]
            for paths, m in cases]
    assert got == want


def test_image_config_nix_differs_from_the_spec_only_by_the_known_gaps(tmp_path: Path) -> None:
    section = json.loads((REPO / "nix/tests/fixtures/lock-gpu.json").read_text())["cognix"]
    config = section["config"]
    cog = {"build": {"gpu": config["build"]["gpu"]}, "predict": config.get("predict"), "train": config.get("train"),
           "concurrency": {"max": (config.get("concurrency") or {}).get("max")},
           "environment": config.get("environment", [])}
    expr = (f"import ./nix/lib/image-config.nix {{ cog = builtins.fromJSON ''{json.dumps(cog)}''; "
            f"environment = {{ EXTRA = \"1\"; }}; tiniPath = \"/nix/store/x-tini/bin/tini\"; "
            f"cogConfigJSON = builtins.toJSON (builtins.fromJSON ''{json.dumps(config)}''); "
            f"runtimeVersion = \"{section['runtime']['version']}\"; title = \"m\"; revision = \"r\"; "
            f"created = \"2023-11-14T22:13:20Z\"; }}")
    nix = nix_eval(expr, tmp_path)
    ours = spec.spec_for(spec.inputs_from_lock(section, candidates=[], max_layers=2, title="m", epoch=1700000000,
                                               environment={"EXTRA": "1"}, revision="r",
                                               tini="/nix/store/x-tini/bin/tini")).config
    for key in ("Entrypoint", "Cmd", "Env", "WorkingDir", "User", "ExposedPorts"):
        assert nix[key] == ours[key], key
    gaps = {k for k in {*nix["Labels"], *ours["Labels"]} if nix["Labels"].get(k) != ours["Labels"].get(k)}
    # image-config.nix: run.cog.version is the runtime's version (the native engine: the Cog release it answers as),
    # no run.cognix.version label, and a GPU model's run.cog.config without the lock's CUDA filled in
    assert gaps == {"run.cog.version", "run.cognix.version", "run.cog.config"}
    assert json.loads(ours["Labels"]["run.cog.config"]) == {
        **config, "build": {**config["build"], "cuda": section["target"]["cuda"]}}


def test_cli_reads_nixpkgs_conf_and_graph_as_layers_nix_does(tmp_path: Path) -> None:
    """`cognix image-spec --conf conf.json --graph .attrs.json`: what the conf derivation has at build time."""
    from click.testing import CliRunner

    from cognix.cli.main import cli

    store_layers = [[f"/nix/store/{i:032d}-p{i}"] for i in range(8)] + [["/nix/store/" + "9" * 32 + "-rest"]]
    graph = [{"path": p[0], "narSize": (i * 37) % 11, "references": []} for i, p in enumerate(store_layers[:-1])]
    (tmp_path / "conf.json").write_text(json.dumps({"store_layers": store_layers}))
    (tmp_path / "attrs.json").write_text(json.dumps({"graph": graph}))
    (tmp_path / "lock.json").write_text(json.dumps({"cognix": {"config": {"build": {"python_version": "3.11"}}}}))
    result = CliRunner().invoke(cli, ["image-spec", str(tmp_path), "--conf", str(tmp_path / "conf.json"),
                                      "--graph", str(tmp_path / "attrs.json"), "--max-layers", "5"])
    assert result.exit_code == 0, result.output
    got = [g["paths"] for g in json.loads(result.output)["layers"]]
    want = nix_eval(
        f"let l = import ./nix/lib/layers.nix; in l.coalesce {{ maxLayers = 4; paths = l.fromGraph {{ "
        f"storeLayers = builtins.fromJSON ''{json.dumps(store_layers)}''; graph = builtins.fromJSON ''{json.dumps(graph)}''; }}; }}",
        tmp_path)
    assert got == want and len(got) == 4
    result = CliRunner().invoke(cli, ["image-spec", str(tmp_path), "--conf", str(tmp_path / "conf.json")])
    assert result.exit_code == 1 and "go together" in result.output
