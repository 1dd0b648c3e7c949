"""The image spec (cognix.image.spec): fields, layer merging, determinism, UTF-8, and parity between the native
engine's spec (CogConfig + store entries) and `cognix image-spec` with the Nix engine's inputs (lock.json + store
paths and sizes), store paths aside."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import cognix
from cognix.cli.main import cli
from cognix.config import load_config
from cognix.engines.native.plan import Planned, make_plan, native_spec, spec_inputs
from cognix.image import spec
from cognix.image.plan import Entry
from cognix.lock.model import Lock

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "nix/tests/fixtures"
SCHEMA = {"openapi": "3.0.2", "components": {"schemas": {"Input": {"properties": {
    "t": {"description": "Temperature in °C", "title": "Température"}}}}}}


def _c(path: str, size: int, alone: bool = False) -> spec.Candidate:
    return spec.Candidate(path=path, size=size, alone=alone)


def _groups(cands: list[spec.Candidate], limit: int) -> list[list[str]]:
    return [list(g.paths) for g in spec.group_layers(cands, limit)]


# ---------------------------------------------------------------- merging


def test_smallest_adjacent_pair_merged_first() -> None:
    cands = [_c("a", 100), _c("b", 1), _c("c", 2), _c("d", 50)]
    assert _groups(cands, 4) == [["a"], ["b"], ["c"], ["d"]]
    assert _groups(cands, 3) == [["a"], ["b", "c"], ["d"]]
    assert _groups(cands, 2) == [["a"], ["b", "c", "d"]]
    assert _groups(cands, 1) == [["a", "b", "c", "d"]]
    merged = spec.group_layers(cands, 3)[1]
    assert merged.size == 3 and merged.comment == "b + c"


def test_ties_take_the_first_pair_and_alone_is_never_merged() -> None:
    assert _groups([_c("a", 1), _c("b", 1), _c("c", 1)], 2) == [["a", "b"], ["c"]]
    cands = [_c("a", 1), _c("run", 1, alone=True), _c("b", 1), _c("c", 1)]
    assert _groups(cands, 3) == [["a"], ["run"], ["b", "c"]]
    assert _groups(cands, 1) == [["a"], ["run"], ["b", "c"]]  # as close as it can get
    with pytest.raises(ValueError):
        spec.group_layers(cands, 0)


def test_max_layers_counts_the_source_layer() -> None:
    inputs = _inputs(candidates=tuple(_c(f"p{i:03}", i + 1) for i in range(150)), max_layers=100)
    layers = spec.spec_for(inputs).layers
    assert len(layers) == 99
    assert [p for g in layers for p in g.paths] == [f"p{i:03}" for i in range(150)]


# ---------------------------------------------------------------- fields


def _cog(tmp_path: Path, text: str):
    (tmp_path / "cog.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "predict.py").write_text("class Predictor: ...\n")
    return load_config(tmp_path)


def _inputs(**kw) -> spec.SpecInputs:
    cog = spec.CogSettings.from_lock_config({"build": {"python_version": "3.11"}, "predict": "predict.py:Predictor"})
    return dataclasses.replace(spec.SpecInputs(cog=cog, runtime_version="0.23.1", title="m"), **kw)


def test_spec_fields() -> None:
    s = spec.spec_for(_inputs(revision="abc", schema={"openapi": "3.0.2"}, environment=(("EXTRA", "1"),)))
    data = s.to_json()
    assert set(data) == {"format", "created", "config", "layers", "system", "weights"}
    assert data["format"] == spec.SPEC_FORMAT == 1
    config = data["config"]
    assert config["Entrypoint"] == ["/usr/bin/tini", "--"] and config["Cmd"] == ["python", "-m", "cognix.runtime"]
    assert config["User"] == "cog" and config["WorkingDir"] == "/src" and config["ExposedPorts"] == {"5000/tcp": {}}
    assert "EXTRA=1" in config["Env"] and "COG_PREDICT_TYPE_STUB=predict.py:Predictor" in config["Env"]
    assert config["Env"] == sorted(config["Env"], key=lambda v: v.split("=")[0])
    labels = config["Labels"]
    assert labels["run.cog.openapi_schema"] == '{"openapi":"3.0.2"}'
    assert labels["org.opencontainers.image.revision"] == "abc"
    assert labels["run.cog.version"] == "0.23.1" and labels["run.cognix.version"] == cognix.__version__
    assert list(labels) == sorted(labels)
    files = {f["path"]: f for f in data["system"]["files"]}
    assert files["etc/passwd"]["text"].endswith("cog:x:1000:1000:cog:/home/cog:/bin/sh\n")
    assert files["etc/nsswitch.conf"]["text"].startswith("passwd: files\n")
    dirs = {d["path"]: (d["mode"], d["owner"]) for d in data["system"]["dirs"]}
    assert dirs["tmp"] == ("1777", 0) and dirs["root"] == ("0700", 0) and dirs["home/cog"] == ("0755", 1000)
    assert data["weights"] == {"groups": [], "manifest": None, "manifest_text": None, "source_exclusions": []}


def test_root_user_owns_home_and_environment_wins() -> None:
    s = spec.spec_for(_inputs(user="", environment=(("PATH", "/x"),)))
    assert s.config["User"] == ""
    assert {d.path: d.owner for d in s.system.dirs}["home/cog"] == 0
    assert "PATH=/x" in s.config["Env"]


def test_gpu_env_and_config_label(tmp_path: Path) -> None:
    config = _cog(tmp_path, 'build:\n  gpu: true\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n')
    inputs = spec_inputs(config, title="m", schema=None, revision=None, created="x", cuda="12.1", cudnn="8",
                         gpu_lib_dirs=["/w/lib"])
    s = spec.spec_for(inputs)
    assert "LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/nvidia/lib:/w/lib" in s.config["Env"]
    assert "NVIDIA_VISIBLE_DEVICES=all" in s.config["Env"]
    assert json.loads(s.config["Labels"]["run.cog.config"])["build"] == {
        "gpu": True, "python_version": "3.11", "cuda": "12.1", "cudnn": "8"}


def test_system_files_are_what_the_native_system_tree_has(tmp_path: Path) -> None:
    from cognix.lock.model import PythonLayout
    from cognix.store.system import build_home_tree, build_system_tree

    layout = PythonLayout(prefix="/usr", executable="/usr/bin/python3.11", include="/usr/include/python3.11",
                          site_packages="/usr/lib/python3/dist-packages", scripts="/usr/bin")
    build_system_tree(tmp_path / "sys", python=layout, ca_pem=b"")
    build_home_tree(tmp_path / "sys")
    s = spec.system_spec()
    for f in s.files:
        path = tmp_path / "sys" / f.path
        assert path.read_text(encoding="utf-8") == f.text and oct(path.stat().st_mode & 0o7777) == oct(int(f.mode, 8))
    for d in s.dirs:
        assert oct((tmp_path / "sys" / d.path).stat().st_mode & 0o7777) == oct(int(d.mode, 8))


def test_weights_spec_reuses_cognix_weights() -> None:
    from cognix.weights.layers import layer_groups, source_exclusions
    from cognix.weights.manifest import manifest_bytes, manifest_for

    lock = Lock.model_validate(json.loads((FIXTURES / "weights-model/lock.json").read_text())["cognix"])
    w = spec.weights_spec(lock.weights)
    assert [(g.name, list(g.paths)) for g in w.groups] == [(n, [p for p, _ in m]) for n, m in layer_groups(lock)]
    assert w.manifest == manifest_for(lock) and w.manifest is not None
    assert w.manifest_text.encode("utf-8") == manifest_bytes(w.manifest)
    assert list(w.source_exclusions) == source_exclusions(lock)


# ---------------------------------------------------------------- determinism, UTF-8


def test_deterministic_and_utf8() -> None:
    inputs = _inputs(title="modèle", schema=SCHEMA, environment=(("GREETING", "héllo"),))
    one, two = spec.spec_json(spec.spec_for(inputs)), spec.spec_json(spec.spec_for(dataclasses.replace(inputs)))
    assert one == two
    raw = one.encode("utf-8")
    assert "Temperature in °C".encode() in raw and "GREETING=héllo".encode() in raw and b"\\u00" not in raw
    assert json.loads(one)["config"]["Labels"]["run.cog.openapi_schema"] == json.dumps(
        SCHEMA, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------- parity: native vs `cognix image-spec`


def _e(name: str, size: int, refs: tuple[str, ...] = ()) -> Entry:
    return Entry(name=name, root=f"/x/{name}", size=size, references=list(refs), digest=name)


def _planned(weights: list[str] = ()) -> list[Planned]:
    """A native plan's entries: each with its own size; the source last."""
    libc = _e("deb/libc6", 13_000_000)
    planned = [Planned("deb", libc), Planned("deb", _e("deb/libssl3", 2_400_000, ("deb/libc6",))),
               Planned("deb", _e("deb/tini", 30_000, ("deb/libc6",))), Planned("python", _e("python", 60_000_000)),
               Planned("system", _e("system", 4_000)), Planned("system", _e("home", 0)),
               Planned("system", _e("postinst", 50_000)), Planned("wheel", _e("wheel/torch", 800_000_000)),
               Planned("wheel", _e("wheel/six", 11_000)), Planned("wheel", _e("wheel/attrs", 60_000)),
               Planned("runtime", _e("runtime", 900_000))]
    planned += [Planned("weights", _e(name, 5_000_000)) for name in weights]
    return [*planned, Planned("src", _e("src", 2_000))]


def _store_path(name: str) -> str:
    return f"/nix/store/{'0' * 32}-{name.replace('/', '-')}"


def _strip(data: dict, planned: list[Planned]) -> dict:
    """Store paths aside: each /nix/store/<hash>-<name> back to the entry name it stands for."""
    names = {_store_path(p.entry.name): p.entry.name for p in planned}
    text = json.dumps(data, ensure_ascii=False)
    return json.loads(re.sub(r"/nix/store/0{32}-[^\" ]*", lambda m: names[m.group(0)], text))


def _cli_spec(tmp_path: Path, section: dict, planned: list[Planned], *args: str) -> dict:
    lock_file = tmp_path / "nix-model" / "lock.json"
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    lock_file.write_text(json.dumps({"cognix": section}), encoding="utf-8")
    from cognix.engines.native.plan import order_entries

    # what the Nix engine has at build time: store paths in image order, with exportReferencesGraph's narSize
    paths = [{"path": _store_path(p.entry.name), "narSize": p.entry.size} for p in order_entries(planned)[:-1]]
    (tmp_path / "paths.json").write_text(json.dumps(paths))
    result = CliRunner().invoke(cli, ["image-spec", str(lock_file.parent), "--paths", str(tmp_path / "paths.json"),
                                      "--max-layers", "6", "--title", "model", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


CASES = {
    "hello": (REPO / "examples/hello/cog.yaml", None),
    "weights": (None, FIXTURES / "weights-model/lock.json"),
    "gpu": (None, FIXTURES / "lock-gpu.json"),
    "non-ascii": (None, None),
}


def _case(name: str, tmp_path: Path) -> tuple[object, dict]:
    """(CogConfig, lock.json's cognix section) for a case: the native engine reads cog.yaml, the Nix one the lock."""
    cog_yaml, lock_file = CASES[name]
    section: dict = {}
    if lock_file is not None:
        section = json.loads(lock_file.read_text(encoding="utf-8"))["cognix"]
        text = json.dumps(section["config"], ensure_ascii=False)  # JSON is YAML
    elif cog_yaml is not None:
        text = cog_yaml.read_text(encoding="utf-8")
    else:
        text = ('build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
                'environment:\n  - "GREETING=héllo wörld"\n  - "UNIT=°C"\n')
    (tmp_path / "native").mkdir()
    config = _cog(tmp_path / "native", text)
    section = {**section, "config": config.cog_json()} if lock_file is None else section
    return config, section


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_spec_with_store_paths_equals_the_native_spec(name: str, tmp_path: Path) -> None:
    config, section = _case(name, tmp_path)
    lock = Lock.model_construct(weights=[]) if "weights" not in section else Lock.model_validate(section)
    weight_layers = [g.name for g in spec.weights_spec(lock.weights).groups]
    planned = _planned(weight_layers)
    target = section.get("target") or {}
    inputs = spec_inputs(config, title="model", schema=SCHEMA, revision="r1", created=spec.rfc3339(1700000000),
                         cuda=target.get("cuda"), cudnn=target.get("cudnn"),
                         weights=spec.weights_spec(lock.weights))
    native = native_spec(planned, inputs, max_layers=6)

    (tmp_path / "schema.json").write_text(json.dumps(SCHEMA, ensure_ascii=False), encoding="utf-8")
    nix = _cli_spec(tmp_path, section, planned, "--epoch", "1700000000", "--revision", "r1",
                    "--schema", str(tmp_path / "schema.json"))
    assert _strip(nix, planned) == native.to_json()
    # byte for byte, store paths aside
    assert json.dumps(_strip(nix, planned), sort_keys=True, indent=2, ensure_ascii=False) + "\n" == spec.spec_json(native)
    # the image config the native plan writes: labels, Env, Cmd, User
    plan = make_plan(planned, inputs, name="model", image=None, max_layers=6)
    assert plan.config.labels == nix["config"]["Labels"] and plan.config.env == nix["config"]["Env"]
    assert plan.config.cmd == nix["config"]["Cmd"] and plan.config.user == nix["config"]["User"]
    assert [layer.comment for layer in plan.layers[:-1]] == [g["comment"] for g in _strip(nix, planned)["layers"]]
    assert len(plan.layers) == 6 and plan.layers[-1].entries[0].name == "src"
    if name == "non-ascii":
        assert "GREETING=héllo wörld" in nix["config"]["Env"] and "°C" in nix["config"]["Labels"]["run.cog.config"]
    if name == "weights":
        assert nix["weights"]["manifest"] is not None and nix["weights"]["groups"]
    if name == "gpu":
        assert "NVIDIA_VISIBLE_DEVICES=all" in nix["config"]["Env"]
        assert json.loads(nix["config"]["Labels"]["run.cog.config"])["build"]["cuda"] == "12.1"


def test_cli_errors_are_cognix_errors(tmp_path: Path) -> None:
    (tmp_path / "lock.json").write_text("{}")
    result = CliRunner().invoke(cli, ["image-spec", str(tmp_path)])
    assert result.exit_code == 1 and "no 'cognix' section" in result.output
    (tmp_path / "lock.json").write_text('{"cognix": {"config": {}}}')
    result = CliRunner().invoke(cli, ["image-spec", str(tmp_path), "--environment", "[1]"])
    assert result.exit_code == 1 and "JSON object" in result.output
    result = CliRunner().invoke(cli, ["image-spec", str(tmp_path), "--max-layers", "1"])
    assert result.exit_code == 1 and "at least 2" in result.output
    (tmp_path / "lock.json").write_text('{"cognix": {"config": {"environment": ["NOEQUALS"]}}}')
    result = CliRunner().invoke(cli, ["image-spec", str(tmp_path)])
    assert result.exit_code == 1 and "'NOEQUALS' is not NAME=value" in result.output
