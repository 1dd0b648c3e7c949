"""The flake evaluated with the real dream2nix (flake.lock's pin) and nixpkgs' real lib
(tests/nix/realeval.py): every package's drvPath, `nix flake show`, `nix flake check --no-build`,
and the wheel derivations' merged autoPatchelf settings. Needs checkouts named by
COGNIX_DREAM2NIX and COGNIX_NIXPKGS_LIB (scripts/nix-real-eval makes them from git mirrors).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import realeval
from realeval import SYSTEM

_checkouts = realeval.env_checkouts()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(realeval.NIX is None, reason="nix is not installed (Debian package nix-bin)"),
    pytest.mark.skipif(
        _checkouts is None,
        reason="COGNIX_DREAM2NIX and COGNIX_NIXPKGS_LIB are not set: point them at a dream2nix checkout at flake.lock's rev "
        "and a nixpkgs lib checkout (scripts/nix-real-eval prepares both and runs this)",
    ),
]

EXAMPLES = ["ebsynth-cpu", "hello", "torch-demo"]


@pytest.fixture(scope="module")
def ev(tmp_path_factory: pytest.TempPathFactory) -> realeval.RealEval:
    assert _checkouts is not None
    if (problem := realeval.sandbox_problem()) is not None:
        pytest.skip(problem)
    dream2nix, nixpkgs_lib = _checkouts
    return realeval.prepare(tmp_path_factory.mktemp("real-eval"), dream2nix.resolve(), nixpkgs_lib.resolve())


def _report(ev: realeval.RealEval) -> None:
    for r in ev.log:
        print(f"$ {r.command}\n{r.stdout.strip()}")


def test_packages_are_the_examples_and_the_cli(ev: realeval.RealEval) -> None:
    assert ev.package_names() == ["cognix", "default", *EXAMPLES]


@pytest.mark.parametrize("name", ["cognix", "default", *EXAMPLES])
def test_every_package_has_a_drv_path(ev: realeval.RealEval, name: str) -> None:
    drv = ev.drv_path(f"packages.{SYSTEM}.{name}")
    print(f"{name}: {drv}")
    assert drv.startswith("/nix/store/") and drv.endswith(".drv")
    expected = "python3.11-cognix-0.1.0" if name in ("cognix", "default") else f"stream-{name}"
    assert drv.endswith(f"-{expected}.drv")


def test_gpu_torch_ignores_dream2nix_and_cognix_driver_libraries(ev: realeval.RealEval) -> None:
    """The issue: cognix's string met dream2nix's torch list. Now both lists are concatenated."""
    env = ev.drv_path(f"packages.{SYSTEM}.torch-demo.pythonEnv")
    ignores = ev.wheel_envs(env, "autoPatchelfIgnoreMissingDeps")
    torch = ignores["python3.11-torch-2.3.1"]
    assert torch is not None and set(torch.split()) == {"libcuda.so.1", "libnvidia-ml.so.1"}
    # every other wheel of the GPU image: cognix's list alone
    assert ignores["python3.11-nvidia-cublas-cu12-12.1.3.1"] == "libcuda.so.1 libnvidia-ml.so.1"
    assert ignores["python3.11-typing-extensions-4.16.0"] == "libcuda.so.1 libnvidia-ml.so.1"


def test_cpu_torch_from_the_template_flake(ev: realeval.RealEval) -> None:
    """A CPU model with torch, in a flake made from nix/template (cognix as its input)."""
    drv = ev.drv_path(f"packages.{SYSTEM}.model", user=True)
    assert drv.endswith("-stream-model.drv")
    ignores = ev.wheel_envs(ev.drv_path(f"packages.{SYSTEM}.model.pythonEnv", user=True), "autoPatchelfIgnoreMissingDeps")
    # dream2nix's own torch override only; cognix adds nothing on CPU
    assert ignores["python3.11-torch-2.3.1"] == "libcuda.so.1"
    assert ignores["python3.11-nvidia-cublas-cu12-12.1.3.1"] == ""


def test_every_lock_wheel_is_one_derivation_from_its_url(ev: realeval.RealEval) -> None:
    lock = json.loads((ev.work / "cognix" / "examples" / "torch-demo" / "lock.json").read_text())
    env = ev.drv_path(f"packages.{SYSTEM}.torch-demo.pythonEnv")
    drvs = ev.show_derivation(env)
    fetched = {d["env"]["urls"]: d["outputs"]["out"]["hash"] for d in drvs.values() if "urls" in d["env"]}
    for source in lock["fetchPipMetadata"]["sources"].values():
        assert fetched[source["url"]] == source["sha256"]
    wheels = {d["env"]["name"] for d in drvs.values() if d["env"].get("format") == "wheel" and d["env"]["name"].startswith("python3.11-")}
    # the locked wheels plus the cognix runtime's interpreter tools are all there
    names = {f"python3.11-{n}-{s['version']}" for n, s in lock["fetchPipMetadata"]["sources"].items()}
    assert names <= wheels


def test_flake_show(ev: realeval.RealEval) -> None:
    out = json.loads(ev.nix(*ev.flake_args("flake", "show", "--json", ev.cognix)).stdout)
    assert sorted(out["packages"][SYSTEM]) == ["cognix", "default", *EXAMPLES]
    assert out["packages"][SYSTEM]["torch-demo"]["name"] == "stream-torch-demo"
    assert sorted(out["apps"][SYSTEM]) == ["cognix", "default", *(f"{e}-push-weights" for e in EXAMPLES)]
    assert sorted(out["checks"][SYSTEM]) == ["cognix", "nix-unit"]
    assert out["templates"]["default"]["description"] == "A single Cog model built by cognix"


def test_flake_check_no_build(ev: realeval.RealEval) -> None:
    result = ev.nix(*ev.flake_args("flake", "check", "--no-build", ev.cognix))
    # only `lib` is an output Nix does not know
    assert [line for line in realeval.quiet(result.stderr) if line.startswith(("warning", "error"))] == [
        "warning: unknown flake output 'lib'"
    ]
    _report(ev)


def test_a_dream2nix_tree_other_than_the_pin_is_refused(ev: realeval.RealEval, tmp_path: Path) -> None:
    """prepare() checks the checkout's NAR hash against flake.lock: the evaluation is at the pin or refused."""
    realeval.check_pin(ev.work / "inputs" / "dream2nix")
    tree = tmp_path / "dream2nix"
    shutil.copytree(ev.work / "inputs" / "dream2nix", tree, symlinks=True)
    (tree / "modules" / "dream2nix" / "pip" / "default.nix").write_text("{ }\n")
    with pytest.raises(ValueError, match="but flake.lock pins dream2nix 4d441820e0d0916c97d7af6c4d4f6843d676e242"):
        realeval.check_pin(tree)


def test_source_date_epoch_counts_with_impure_only(ev: realeval.RealEval) -> None:
    """The real module system: cognix.sourceDateEpoch defaults to SOURCE_DATE_EPOCH where evaluation may read the
    environment (--impure); a pure flake's getEnv gives "" and the image keeps 1970-01-01T00:00:01Z."""
    apply = ('p: { epoch = p.config.cognix.sourceDateEpoch; inherit (p.base) created fakeRootCommands; '
             # the label's time: the epoch `cognix image-spec` gets (cognix/image/spec.py writes created from it)
             'spec = builtins.match ".*\'--epoch\' \'([0-9]+)\'.*" p.spec.buildCommand; }')

    def times(*extra: str) -> dict:
        args = ev.flake_args("eval", "--json", *extra, f"{ev.cognix}#packages.{SYSTEM}.hello", "--apply", apply)
        return json.loads(ev.nix(*args, env_extra={"SOURCE_DATE_EPOCH": "1800000000"}).stdout)

    first = lambda t: {**t, "fakeRootCommands": t["fakeRootCommands"].split("\n")[0]}  # noqa: E731
    assert first(times()) == {"epoch": 1, "created": "1970-01-01T00:00:01Z", "spec": ["1"],
                              "fakeRootCommands": "SOURCE_DATE_EPOCH=1"}
    assert first(times("--impure")) == {"epoch": "1800000000", "created": "2027-01-15T08:00:00Z", "spec": ["1800000000"],
                                        "fakeRootCommands": "SOURCE_DATE_EPOCH=1800000000"}


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_nix_paths_spec_is_the_native_engines(ev: realeval.RealEval, name: str, tmp_path: Path) -> None:
    """What the real module system hands `cognix image-spec` for each example (its lock, made from lock.json and the
    modules' cog.*, and its arguments), run through the CLI, equals the native engine's spec for the same cog.yaml
    and lock.json: config, system files, weights; the store paths (tini) aside. GPU models' LD_LIBRARY_PATH: the
    native engine adds the CUDA wheels' directories, the Nix one finds them through RPATHs (autoPatchelf)."""
    import dataclasses

    from click.testing import CliRunner

    from cognix.cli.main import cli
    from cognix.config import load_config
    from cognix.engines.native.plan import spec_inputs
    from cognix.image import spec
    from cognix.lock.lockfile import read_lock

    args = ev.flake_args("eval", "--json", f"{ev.cognix}#packages.{SYSTEM}.{name}", "--apply", "p: p.imageSpec")
    image = json.loads(ev.nix(*args).stdout)
    (tmp_path / "lock.json").write_text(json.dumps(image["lock"], ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["image-spec", str(tmp_path), *image["args"][1:], "--max-layers", "100"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    nix = json.loads(result.output)
    options = dict(zip(image["args"][1::2], image["args"][2::2]))
    model = ev.work / "cognix" / "examples" / name
    lock = read_lock(model)
    inputs = spec_inputs(load_config(model), title=options["--title"], schema=None,
                         revision=options.get("--revision"), created=spec.DEFAULT_CREATED, cuda=lock.target.cuda,
                         cudnn=lock.target.cudnn, weights=spec.weights_spec(lock.weights))
    inputs = dataclasses.replace(inputs, tini=options["--tini"],
                                 environment=tuple(sorted(json.loads(options["--environment"]).items())))
    assert options["--tini"].startswith("/nix/store/") and options["--user"] == "cog"
    assert nix == spec.spec_for(inputs).to_json()
