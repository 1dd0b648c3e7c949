"""torch and CUDA as Cog does it (cognix.lock.torch): the rules on plain data, then real resolutions against a
PyTorch-style index and a package index served on 127.0.0.1 (PEP 503 pages, tiny valid wheels, sha256 fragments).
Tests marked slow use the real package index (and Debian) through lock_model; the PyTorch index is always local."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.version import Version
from servicekit import free_port, static_files

from indexkit import World

from cognix.cli.main import cli
from cognix.config.model import Build
from cognix.config.requirements import Requirements
from cognix.errors import LockError
from cognix.lock import torch as tr
from cognix.lock import torch_index as ti
from cognix.lock import torch_table as tt
from cognix.lock.gpu import gpu_versions
from cognix.lock.index import IndexConfig
from cognix.lock.model import Wheel
from cognix.lock.python import resolve_wheels, split_options
from cognix.lock.target import make_target

T311 = make_target("3.11", glibc="2.36", debian_suite="bookworm")
HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello"
MANYLINUX = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"


def dead_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens: connection refused at once."""
    return f"http://127.0.0.1:{free_port()}/whl"


@pytest.fixture(autouse=True)
def _local_only(monkeypatch):
    """No test here may reach a real PyTorch index: the default base is a dead local port, probes start afresh."""
    monkeypatch.setenv(ti.TORCH_INDEX_ENV, dead_url())
    ti.forget_probes()
    yield
    ti.forget_probes()


NV11 = "nvidia-cuda-runtime-cu11"
NV12 = "nvidia-cuda-runtime-cu12"


def populate(world: World) -> None:
    w = world
    # The package index: Linux torch builds whose CUDA runtime comes as nvidia-* wheels, as on the real one.
    for name, version in [(NV11, "11.7.99"), (NV11, "11.8.89"), (NV12, "12.1.105"), (NV12, "12.4.127"),
                          ("nvidia-cuda-runtime", "13.0.96")]:
        w.package(name, version, "py3-none-manylinux2014_x86_64", pad=150_000)
    w.package("nvidia-cudnn-cu11", "8.5.0.96", "py3-none-manylinux2014_x86_64", pad=250_000)
    w.package("filelock", "3.0.0")
    w.package("torch", "1.13.0", MANYLINUX, ("filelock", f"{NV11}==11.7.99", "nvidia-cudnn-cu11==8.5.0.96"))
    w.package("torch", "2.0.1", MANYLINUX, ("filelock", f"{NV11}==11.7.99"))
    w.package("torch", "2.1.0", MANYLINUX, ("filelock", f"{NV12}==12.1.105"))
    w.package("torch", "2.5.1", MANYLINUX, ("filelock", f"{NV12}==12.4.127"))
    w.package("torch", "2.11.0", MANYLINUX, ("filelock", "nvidia-cuda-runtime==13.0.96"))
    w.package("torchvision", "0.16.0", MANYLINUX, ("torch==2.1.0",))
    # The PyTorch-style index.
    w.torch_build("cu118", "torch", "2.0.1", requires=("filelock", f"{NV11}==11.8.89"))
    w.torch_build("cu118", "torch", "2.1.0", requires=("filelock", f"{NV11}==11.8.89"))
    w.torch_build("cu118", "torch", "2.2.0", wheel_tag="cp310-cp310-linux_x86_64")  # not for CPython 3.11
    w.torch_build("cu118", "torchvision", "0.16.0", requires=("torch==2.1.0",))
    w.torch_build("cu117", "torch", "1.13.0", requires=("filelock",))  # CUDA bundled in the wheel
    w.torch_build("cu121", "torch", "2.1.0", requires=("filelock", f"{NV12}==12.1.105"))
    w.torch_build("cpu", "torch", "2.1.0", requires=("filelock",))
    w.torch_build("cpu", "torch", "2.5.1", requires=("filelock",))
    w.torch_build("cpu", "torchvision", "0.16.0", requires=("torch==2.1.0",))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("indexes"))
    populate(w)
    with static_files(w.root) as (url, _requests):
        w.url = url
        yield w


def lock_torch(lines: list[str], world: World, *, gpu: bool, cuda: str | None, torch_index: str | None,
               target=T311):
    """What lock_model does about torch, on the local package index: plan, resolve with uv, check."""
    model = split_options(lines)
    build = Build(gpu=gpu, cuda=cuda, python_version=target.python_version)
    index = IndexConfig(index_url=world.simple)
    plan = tr.plan_torch(model, Requirements(lines=lines), build, target, index=index, torch_index=torch_index)
    resolution = resolve_wheels(plan.lines, [], target, index, find_links=plan.find_links)
    cuda_, cudnn = plan.check(resolution.wheels)
    return plan, {w.name: w for w in resolution.wheels}, cuda_


# ---- unit tests on plain data -------------------------------------------------------------------------------------

def test_cuda_tags():
    assert tt.cuda_tag("11.8") == "cu118" and tt.cuda_tag("12.1.1") == "cu121" and tt.cuda_tag("13.0") == "cu130"
    assert tt.cuda_of_tag("cu118") == "11.8" and tt.cuda_of_tag("cu130") == "13.0"
    assert tt.cuda_of_tag("cpu") is None and tt.cuda_of_tag("rocm6.2") is None
    assert tt.cuda_parts("12.1.1") == (12, 1) and tt.cuda_parts("12") == (12, None)


def test_table_is_consistent():
    versions = [r.torch for r in tt.RELEASES]
    assert len(set(versions)) == len(versions)
    for r in tt.RELEASES:
        for cuda in r.cuda + ((r.package_index_cuda,) if r.package_index_cuda else ()):
            assert tt.cuda_of_tag(tt.cuda_tag(cuda)) == cuda


@pytest.mark.parametrize(("cuda", "pin", "expected"), [
    ("11.8", None, tt.Build("2.7.1", "11.8", "cu118")),  # unpinned: the newest torch with a CUDA 11.8 build
    ("12.3", None, tt.Build("2.5.1", "12.1", "cu121")),  # the newest build not above 12.3 of 12.x
    ("12.8", None, tt.Build("2.12.1", "12.6", "cu126")),  # newest torch first, then its newest fitting CUDA
    ("11.8", "1.13.0", tt.Build("1.13.0", "11.7", "cu117")),  # Cog: the newest CUDA not above build.cuda
    ("12.4", "2.5.1", tt.Build("2.5.1", "12.4", "cu124")),
    ("11.7", "2.0.1", tt.Build("2.0.1", "11.7", None)),  # the package index's build fits best, as in Cog's matrix
    ("12.4", "2.11.0", tt.Build("2.11.0", "12.6", "cu126")),  # only newer minors of 12.x: the nearest one
    ("12.1", "2.0.1", None),  # CUDA 11 builds only
    ("12.4", "2.5", tt.Build("2.5.0", "12.4", "cu124")),  # == 2.5 is 2.5.0
])
def test_best_build(cuda, pin, expected):
    accept = (lambda v: Version(v) == Version(pin)) if pin else (lambda _v: True)
    assert tt.best_build(cuda, accept) == expected


def test_fitting_versions_and_text():
    fits = tt.fitting_versions("12.1")
    assert fits[0] == "2.5.1" and fits[-1] == "2.1.0" and "2.0.1" not in fits and "2.6.0" not in fits
    on_package_index = tt.fitting_versions("12.1", torch_index=False)
    assert on_package_index[0] == "2.4.1" and "2.5.1" not in on_package_index  # 2.5.1's own build is CUDA 12.4
    assert tt.fitting_versions("11.8", torch_index=False)[:2] == ["2.0.1", "2.0.0"]
    text = tt.fits_text("12.1")
    assert text.startswith("torch versions with a build for CUDA 12.x that fits 12.1: 2.5.1, 2.5.0")
    assert "cognix knows no torch release" in tt.fits_text("99.0")


@pytest.mark.parametrize(("line", "expected"), [
    ("torch==2.1.0", "2.1.0"), ("torch==2.1.0+cu118", "2.1.0+cu118"), ("torch>=2.0", None),
    ("torch==2.*", None), ("torch", None), ("torch>=2,<3", None), ("torch===2.1.0", "2.1.0"),
])
def test_pinned_version(line, expected):
    from packaging.requirements import Requirement

    pin = tr.pinned_version(Requirement(line))
    assert (str(pin) if pin else None) == expected


def test_parse_page_real_format():
    text = ('<html><body><a href="/whl/cu118/torch-2.1.0%2Bcu118-cp311-cp311-linux_x86_64.whl#sha256=ab">'
            'torch-2.1.0+cu118-cp311-cp311-linux_x86_64.whl</a><br/>'
            '<a href="/whl/cu118/torch-2.1.0%2Bcu118-cp310-cp310-linux_x86_64.whl#sha256=cd">x</a></body></html>')
    files = ti.parse_page(text, "http://127.0.0.1:1/whl/cu118/torch/")
    assert files[0].filename == "torch-2.1.0+cu118-cp311-cp311-linux_x86_64.whl"
    assert files[0].url == "http://127.0.0.1:1/whl/cu118/torch-2.1.0%2Bcu118-cp311-cp311-linux_x86_64.whl#sha256=ab"
    assert [str(v) for v in ti.page_versions(files, "torch", T311)] == ["2.1.0+cu118"]


def _wheel(name: str, version: str, size: int = 1) -> Wheel:
    return Wheel(name=name, version=version, filename=f"{name}-{version}-py3-none-any.whl",
                 url=f"http://127.0.0.1:1/{name}", sha256="0" * 64, size=size)


def test_same_major_other_minor_is_a_warning():
    warnings: list[str] = []
    wheels = [_wheel("torch", "1.13.0"), _wheel(NV11, "11.7.99")]
    assert gpu_versions(wheels, gpu=True, cuda="11.8", cudnn=None, warnings=warnings) == ("11.7", None)
    assert warnings == ["build.cuda is 11.8 but the locked torch 1.13.0 was built for CUDA 11.7: same major "
                        "version, accepted"]


def test_other_major_is_an_error_listing_versions():
    with pytest.raises(LockError) as info:
        gpu_versions([_wheel("torch", "2.0.1+cu118")], gpu=True, cuda="12.1", cudnn=None)
    err = info.value
    assert err.what.startswith("build.cuda is 12.1 but the locked torch 2.0.1+cu118 was built for CUDA 11.8; "
                               "torch versions with a build for CUDA 12.x that fits 12.1: 2.5.1,")
    assert "2.1.0" in err.what and err.fix and "torch==2.5.1" in err.fix and "cu121" in err.fix


def test_torch_index_base(monkeypatch):
    monkeypatch.delenv(ti.TORCH_INDEX_ENV)
    assert ti.torch_index_base() == ti.DEFAULT_TORCH_INDEX
    monkeypatch.setenv(ti.TORCH_INDEX_ENV, "http://127.0.0.1:9/mirror/")
    assert ti.torch_index_base() == "http://127.0.0.1:9/mirror"
    assert ti.torch_index_base("http://127.0.0.1:8/whl") == "http://127.0.0.1:8/whl"
    with pytest.raises(LockError, match="not an http"):
        ti.torch_index_base("/srv/whl")


def test_probe_is_fast_and_remembered(tmp_path):
    dead = dead_url()
    start = time.monotonic()
    assert ti.reachable(dead) is False
    assert time.monotonic() - start < 2
    with static_files(tmp_path) as (url, requests):
        assert ti.reachable(url) and ti.reachable(url)
        assert len(requests) == 1  # one probe per base for the process


def test_model_without_torch_is_not_probed(world):
    start = time.monotonic()
    lines = ["numpy==2.0.0", "torchmetrics>=1"]
    for gpu, cuda in [(True, "11.8"), (False, None)]:
        plan = tr.plan_torch(split_options(lines), Requirements(lines=lines), Build(gpu=gpu, cuda=cuda), T311,
                             index=IndexConfig(), torch_index=world.torch_index)
        assert plan.lines == lines and not plan.find_links and not plan.warnings
    assert not ti._reachable and time.monotonic() - start < 0.5


def test_model_naming_its_own_index_is_left_alone(world):
    lines = ["torch==2.1.0", f"--extra-index-url {world.torch_index}/cu118"]
    model = split_options(lines)
    plan = tr.plan_torch(model, Requirements(lines=model.lines), Build(gpu=True, cuda="11.8"), T311,
                         index=IndexConfig(), torch_index=world.torch_index)
    assert plan.lines == ["torch==2.1.0"] and not plan.find_links and not ti._reachable


# ---- against the local indexes ------------------------------------------------------------------------------------

def test_cuda_unpinned_torch_index_reachable(world):
    plan, wheels, cuda = lock_torch(["torch", "torchvision"], world, gpu=True, cuda="11.8",
                                    torch_index=world.torch_index)
    torch = wheels["torch"]
    assert torch.version == "2.1.0+cu118"  # the newest +cu118 build with a CPython 3.11 wheel
    assert torch.url.startswith(f"{world.torch_index}/cu118/") and len(torch.sha256) == 64 and torch.size > 0
    assert wheels["torchvision"].version == "0.16.0+cu118"
    assert wheels[NV11].version == "11.8.89" and wheels["filelock"].url.startswith(world.simple.rsplit("/", 1)[0])
    assert cuda == "11.8" and plan.warnings == [] and plan.torch_index == f"{world.torch_index}/cu118"


def test_cuda_unpinned_torch_index_unreachable(world):
    dead = dead_url()
    plan, wheels, cuda = lock_torch(["torch"], world, gpu=True, cuda="11.8", torch_index=dead)
    assert wheels["torch"].version == "2.0.1"  # the newest on the package index with a CUDA 11 runtime
    assert cuda == "11.7"
    assert plan.warnings == [f"the PyTorch index {dead} is not reachable: torch 2.0.1 comes from the package index, "
                             "the newest there whose CUDA runtime (nvidia-* wheels, CUDA 11.7) fits build.cuda 11.8"]


def test_cuda_pinned_other_minor_from_package_index(world):
    plan, wheels, cuda = lock_torch(["torch==1.13.0"], world, gpu=True, cuda="11.8", torch_index=dead_url())
    assert wheels["torch"].version == "1.13.0" and cuda == "11.7"
    assert len(plan.warnings) == 1
    assert plan.warnings[0].startswith("build.cuda is 11.8 but the locked torch 1.13.0 was built for CUDA 11.7: "
                                       "same major version, accepted (the PyTorch index")


def test_cuda_pinned_other_minor_from_torch_index(world):
    plan, wheels, cuda = lock_torch(["torch==1.13.0"], world, gpu=True, cuda="11.8", torch_index=world.torch_index)
    assert wheels["torch"].version == "1.13.0+cu117" and cuda == "11.7"  # Cog: the newest CUDA not above 11.8
    assert plan.warnings == ["build.cuda is 11.8 but the locked torch 1.13.0+cu117 was built for CUDA 11.7: same "
                             "major version, accepted"]


def test_cuda_12_with_torch_for_cuda_11_reachable(world):
    with pytest.raises(LockError) as info:
        lock_torch(["torch==2.0.1"], world, gpu=True, cuda="12.1", torch_index=world.torch_index)
    err = info.value
    assert err.what.startswith("build.cuda is 12.1 but torch 2.0.1 has builds only for CUDA 11.8, 11.7; torch "
                               "versions with a build for CUDA 12.x that fits 12.1: 2.5.1, 2.5.0,")
    assert err.what.endswith("2.1.1, 2.1.0") and err.fix


def test_cuda_12_with_torch_for_cuda_11_unreachable(world):
    dead = dead_url()
    with pytest.raises(LockError) as info:
        lock_torch(["torch==2.0.1"], world, gpu=True, cuda="12.1", torch_index=dead)
    msg = info.value.message
    assert msg.startswith(f"build.cuda is 12.1 but the locked torch 2.0.1 was built for CUDA 11.7 (the PyTorch index "
                          f"{dead} is not reachable; torch is the package index's); torch versions with a build for "
                          "CUDA 12.x that fits 12.1 on the package index: 2.4.1, 2.4.0,")
    assert "fix: pin a torch built for CUDA 12.x (e.g. torch==2.4.1)" in msg and "Traceback" not in msg


def test_cuda_12_with_explicit_cuda_11_build(world):
    with pytest.raises(LockError, match=r"torch==2\.1\.0\+cu118, built for CUDA 11\.8; torch versions .* 2\.5\.1"):
        lock_torch(["torch==2.1.0+cu118"], world, gpu=True, cuda="12.1", torch_index=world.torch_index)


def test_cuda_12_explicit_build_from_torch_index(world):
    plan, wheels, cuda = lock_torch(["torch==2.1.0+cu121"], world, gpu=True, cuda="12.1",
                                    torch_index=world.torch_index)
    assert wheels["torch"].version == "2.1.0+cu121" and cuda == "12.1" and plan.warnings == []


def test_cuda_unset_keeps_the_package_index_torch(world):
    plan, wheels, cuda = lock_torch(["torch==2.5.1"], world, gpu=True, cuda=None, torch_index=world.torch_index)
    assert wheels["torch"].version == "2.5.1" and cuda == "12.4" and not ti._reachable


def test_cpu_torch_index_reachable(world):
    plan, wheels, _ = lock_torch(["torch"], world, gpu=False, cuda=None, torch_index=world.torch_index)
    assert wheels["torch"].version == "2.5.1+cpu" and wheels["torch"].url.startswith(f"{world.torch_index}/cpu/")
    assert not [n for n in wheels if n.startswith("nvidia-")] and plan.warnings == []
    plan, wheels, _ = lock_torch(["torch==2.1.0", "torchvision==0.16.0"], world, gpu=False, cuda=None,
                                 torch_index=world.torch_index)
    assert (wheels["torch"].version, wheels["torchvision"].version) == ("2.1.0+cpu", "0.16.0+cpu")
    assert plan.lines == ["torch==2.1.0+cpu", "torchvision==0.16.0+cpu"] and plan.warnings == []
    plan, wheels, _ = lock_torch(["torch", "torchvision==0.16.0"], world, gpu=False, cuda=None,
                                 torch_index=world.torch_index)
    assert wheels["torch"].version == "2.1.0+cpu"  # the torch that goes with torchvision 0.16.0, not the newest


def test_cpu_torch_index_unreachable(world):
    dead = dead_url()
    plan, wheels, _ = lock_torch(["torch"], world, gpu=False, cuda=None, torch_index=dead)
    assert wheels["torch"].version == "2.11.0"
    nvidia = [w for n, w in wheels.items() if n.startswith("nvidia-")]
    assert [w.name for w in nvidia] == ["nvidia-cuda-runtime"]
    size = f"{nvidia[0].size / 1024:.1f} KiB"
    assert plan.warnings == [f"the PyTorch CPU index {dead}/cpu is not reachable: torch 2.11.0 from the package index "
                             f"pulls in 1 CUDA wheel (nvidia-*, {size}) that a CPU image does not use"]


def test_cpu_pinned_version_missing_from_cpu_index(world):
    plan, wheels, _ = lock_torch(["torch==1.13.0"], world, gpu=False, cuda=None, torch_index=world.torch_index)
    assert wheels["torch"].version == "1.13.0"
    assert len(plan.warnings) == 1
    assert plan.warnings[0].startswith("the PyTorch index has no torch 1.13.0 CPU build for CPython 3.11")
    assert "2 CUDA wheels (nvidia-*, " in plan.warnings[0]


def test_explicit_builds_come_from_the_torch_index(world):
    plan, wheels, _ = lock_torch(["torch==2.1.0+cpu"], world, gpu=False, cuda=None, torch_index=world.torch_index)
    assert wheels["torch"].url.startswith(f"{world.torch_index}/cpu/") and plan.warnings == []
    plan, wheels, cuda = lock_torch(["torch==2.1.0+cu121"], world, gpu=True, cuda=None, torch_index=world.torch_index)
    assert wheels["torch"].version == "2.1.0+cu121" and cuda == "12.1"  # build.cuda unset: taken from torch
    with pytest.raises(LockError, match=r"requires torch==2\.1\.0\+cu118, a build of the PyTorch index, and the "
                                        r"PyTorch index http://127\.0\.0\.1:\d+/whl is not reachable"):
        lock_torch(["torch==2.1.0+cu118"], world, gpu=True, cuda="11.8", torch_index=dead_url())
    with pytest.raises(LockError, match=r"build.gpu is true but the model requires torch==2\.1\.0\+cpu"):
        lock_torch(["torch==2.1.0+cpu"], world, gpu=True, cuda="11.8", torch_index=world.torch_index)


def test_torch_index_from_the_environment(world, monkeypatch):
    monkeypatch.setenv(ti.TORCH_INDEX_ENV, world.torch_index + "/")
    plan, wheels, cuda = lock_torch(["torch"], world, gpu=True, cuda="11.8", torch_index=None)
    assert wheels["torch"].version == "2.1.0+cu118" and plan.torch_index == f"{world.torch_index}/cu118"


def test_index_answering_without_the_page_falls_back(world, tmp_path):
    (tmp_path / "whl").mkdir()
    with static_files(tmp_path) as (url, _requests):
        empty = f"{url}/whl"
        plan, wheels, cuda = lock_torch(["torch"], world, gpu=True, cuda="11.8", torch_index=empty)
    assert wheels["torch"].version == "2.0.1" and cuda == "11.7"
    assert plan.warnings[0].startswith(f"the PyTorch index {empty} is not reachable: torch 2.0.1 comes from the")


# ---- the CLI ------------------------------------------------------------------------------------------------------

def test_cli_prints_warnings_on_stderr(monkeypatch, tmp_path):
    """`cognix lock` passes --torch-index through and prints each warning as one `warning:` line on stderr."""
    import cognix.lock.lockfile as lockfile
    from cognix.config import load_config
    from cognix.lock.inputs import input_hash
    from cognix.lock.model import Lock, Runtime
    from cognix.lock.runtime_pin import runtime_digest

    model = tmp_path / "hello"
    shutil.copytree(HELLO, model, ignore=shutil.ignore_patterns("lock.json", "__pycache__"))
    seen = {}

    def fake_lock_model(model_dir, **kwargs):
        seen.update(kwargs)
        kwargs["warnings"].extend(["first thing", "second thing"])
        config = load_config(model_dir)
        return Lock(input_hash=input_hash(config, model_dir), target=T311, config=config.cog_json(),
                    runtime=Runtime(version="0.1.0", sha256=runtime_digest()))

    monkeypatch.setattr(lockfile, "lock_model", fake_lock_model)
    result = CliRunner().invoke(cli, ["lock", "--torch-index", "http://127.0.0.1:9/whl", str(model)])
    assert result.exit_code == 0, result.output
    assert seen["torch_index"] == "http://127.0.0.1:9/whl"
    assert result.stderr.splitlines()[-2:] == ["warning: first thing", "warning: second thing"]
    assert "warning:" not in result.stdout and "Traceback" not in result.output


# ---- lock_model against the real package index (slow); the PyTorch index stays local ------------------------------

def _model(tmp_path: Path, build: str) -> Path:
    model = tmp_path / "model"
    shutil.copytree(HELLO, model, ignore=shutil.ignore_patterns("lock.json", "__pycache__"))
    text = (model / "cog.yaml").read_text()
    (model / "cog.yaml").write_text(text.replace("build:\n", "build:\n" + build))
    return model


@pytest.fixture(scope="module")
def real_world(tmp_path_factory):
    """A PyTorch-style index whose tiny torch builds depend on real packages of the package index."""
    w = World(tmp_path_factory.mktemp("real"))
    w.torch_build("cu118", "torch", "2.0.1", requires=("filelock", f"{NV11}==11.8.89"))
    w.torch_build("cu118", "torch", "2.1.0", requires=("filelock", f"{NV11}==11.8.89"))
    w.torch_build("cpu", "torch", "2.5.1", requires=("filelock",))
    with static_files(w.root) as (url, _requests):
        w.url = url
        yield w


@pytest.mark.slow
def test_lock_model_cuda_unpinned_torch_index_reachable(tmp_path, real_world):
    from cognix.lock import lock_model

    warnings: list[str] = []
    lock = lock_model(_model(tmp_path, '  gpu: true\n  cuda: "11.8"\n  python_packages: ["torch"]\n'),
                      torch_index=real_world.torch_index, warnings=warnings)
    assert lock.wheel("torch").version == "2.1.0+cu118"
    assert lock.wheel(NV11).version == "11.8.89" and lock.wheel("starlette") is not None
    assert (lock.target.cuda, warnings) == ("11.8", [])


@pytest.mark.slow
def test_lock_model_cuda_unpinned_torch_index_unreachable(tmp_path):
    from cognix.lock import lock_model

    warnings: list[str] = []
    lock = lock_model(_model(tmp_path, '  gpu: true\n  cuda: "11.8"\n  python_packages: ["torch"]\n'),
                      warnings=warnings)
    assert lock.wheel("torch").version == "2.0.1" and lock.target.cuda == "11.7"
    assert len(warnings) == 1 and "is not reachable: torch 2.0.1 comes from the package index" in warnings[0]


@pytest.mark.slow
def test_lock_model_pinned_torch_cuda_11_7_accepted(tmp_path):
    from cognix.lock import lock_model

    warnings: list[str] = []
    lock = lock_model(_model(tmp_path, '  gpu: true\n  cuda: "11.8"\n  python_packages: ["torch==1.13.0"]\n'),
                      warnings=warnings)
    assert lock.wheel("torch").version == "1.13.0" and lock.wheel(NV11).version == "11.7.99"
    assert (lock.target.cuda, lock.target.cudnn) == ("11.7", "8")
    assert len(warnings) == 1 and warnings[0].startswith(
        "build.cuda is 11.8 but the locked torch 1.13.0 was built for CUDA 11.7: same major version, accepted")


@pytest.mark.slow
def test_lock_model_cuda_12_with_torch_for_cuda_11(tmp_path):
    model = _model(tmp_path, '  gpu: true\n  cuda: "12.1"\n  python_packages: ["torch==2.0.1"]\n')
    result = CliRunner().invoke(cli, ["lock", str(model)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: build.cuda is 12.1 but the locked torch 2.0.1 was built for CUDA 11.7")
    assert "2.4.1, 2.4.0" in result.stderr and "fix:" in result.stderr and "Traceback" not in result.output
    assert not (model / "lock.json").exists()


@pytest.mark.slow
def test_lock_cpu_torch_unreachable_warns_with_size(tmp_path):
    model = _model(tmp_path, '  python_packages: ["torch==2.5.1"]\n')
    result = CliRunner().invoke(cli, ["lock", "--torch-index", dead_url(), str(model)])
    assert result.exit_code == 0, result.output
    warning = [ln for ln in result.stderr.splitlines() if ln.startswith("warning: ")]
    assert len(warning) == 1 and "/cpu is not reachable: torch 2.5.1 from the package index pulls in" in warning[0]
    assert "GiB) that a CPU image does not use" in warning[0]


@pytest.mark.slow
def test_lock_cpu_torch_from_local_cpu_index(tmp_path, real_world):
    from cognix.lock import lock_model

    warnings: list[str] = []
    lock = lock_model(_model(tmp_path, '  python_packages: ["torch"]\n'), torch_index=real_world.torch_index,
                      warnings=warnings)
    torch = lock.wheel("torch")
    assert torch.version == "2.5.1+cpu" and torch.url.startswith(f"{real_world.torch_index}/cpu/")
    assert not [w for w in lock.wheels if w.name.startswith("nvidia-")] and warnings == []
