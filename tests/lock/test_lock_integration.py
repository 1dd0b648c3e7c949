"""Locking real requirement sets against the configured package index (slow: uses the network)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.utils import parse_wheel_filename

from cognix.cli.main import cli
from cognix.errors import LockError
from cognix.lock.index import choose_index
from cognix.lock.python import resolve_wheels
from cognix.lock.target import make_target

pytestmark = pytest.mark.slow

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello"
T311 = make_target("3.11", glibc="2.36", debian_suite="bookworm")
T310 = make_target("3.10", glibc="2.31")


def resolve(lines: list[str], target=T311):
    index = choose_index(option=None, model_index=None, model_extras=[])
    wheels = resolve_wheels(lines, [], target, index).wheels
    return {w.name: w for w in wheels}


def test_native_wheel_fits_target_glibc():
    wheels = resolve(["numpy>=1.26"])
    numpy = wheels["numpy"]
    _, _, _, tags = parse_wheel_filename(numpy.filename)
    assert {t.interpreter for t in tags} == {"cp311"}
    assert {t.platform for t in tags} & set(T311.platform_tags)
    assert numpy.url.startswith(("https://", "http://")) and numpy.url.endswith(numpy.filename)
    assert len(numpy.sha256) == 64 and numpy.size > 1_000_000
    assert numpy.requested


def test_python_version_and_platform_markers():
    lines = ['tomli; python_version < "3.11"', 'colorama; sys_platform == "win32"',
             'six; sys_platform == "linux"', 'idna']
    assert set(resolve(lines, T311)) == {"six", "idna"}
    assert set(resolve(lines, T310)) == {"six", "idna", "tomli"}


def test_extra_pulls_its_dependencies_with_edges():
    wheels = resolve(["httpx[http2]"])
    assert {"h2", "hpack", "hyperframe"} <= set(wheels)
    assert "h2" in wheels["httpx"].dependencies
    assert wheels["h2"].dependencies == sorted(wheels["h2"].dependencies)
    assert not wheels["h2"].requested
    assert "h2" not in resolve(["httpx"])


def test_unsatisfiable_set_is_a_clear_error():
    with pytest.raises(LockError) as info:
        resolve(["numpy==1.26.4", "numpy>=2"])
    msg = info.value.message
    assert msg.startswith("the Python requirements can't be resolved")
    assert "numpy" in msg and "Traceback" not in msg


def test_sdist_only_package_is_named_when_sdists_are_refused():
    with pytest.raises(LockError, match=r"^docopt has no wheel"):
        resolve_wheels(["docopt==0.6.2"], [], T311, choose_index(option=None, model_index=None, model_extras=[]),
                       allow_sdists=False)


def test_sdist_only_package_comes_back_as_a_source_to_build():
    result = resolve_wheels(["docopt==0.6.2", "idna"], [], T311, choose_index(option=None, model_index=None, model_extras=[]))
    assert [w.name for w in result.wheels] == ["idna"]
    (pin,) = result.sources
    assert (pin.name, pin.version, pin.requested) == ("docopt", "0.6.2", True)
    assert pin.sdist.filename == "docopt-0.6.2.tar.gz" and len(str(pin.sdist.sha256)) == 64 and pin.sdist.size


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "hello"
    shutil.copytree(HELLO, dest, ignore=shutil.ignore_patterns("lock.json", "__pycache__"))
    return dest


def test_lock_hello_twice_identical_then_stale(tmp_path):
    model = _copy(tmp_path)
    runner = CliRunner()
    first = runner.invoke(cli, ["lock", str(model)])
    assert first.exit_code == 0, first.output
    assert "wheels:" in first.output and "target: CPython 3.11" in first.output
    data = (model / "lock.json").read_bytes()
    doc = json.loads(data)
    names = {w["name"] for w in doc["cognix"]["wheels"]}
    assert {"starlette", "uvicorn", "httpx"} <= names  # the runtime's own requirements
    assert set(doc["fetchPipMetadata"]["sources"]) == names
    assert "/opt/wheels" not in data.decode() and "file://" not in data.decode()
    assert runner.invoke(cli, ["lock", str(model)]).exit_code == 0
    assert (model / "lock.json").read_bytes() == data

    fresh = runner.invoke(cli, ["lock", "--check", str(model)])
    assert fresh.exit_code == 0, fresh.output
    text = (model / "cog.yaml").read_text()
    (model / "cog.yaml").write_text(text.replace("build:\n", "build:\n  system_packages: [curl]\n"))
    stale = runner.invoke(cli, ["lock", "--check", str(model)])
    assert stale.exit_code == 1
    assert "lock.json is stale" in stale.output and "cognix lock" in stale.output
    assert "Traceback" not in stale.output


def test_lock_model_with_requirements_file(tmp_path):
    model = _copy(tmp_path)
    (model / "requirements.txt").write_text('numpy==2.2.6\nsix ; python_version >= "3.8"\n')
    text = (model / "cog.yaml").read_text()
    (model / "cog.yaml").write_text(text.replace("build:\n", 'build:\n  python_requirements: "requirements.txt"\n'))
    from cognix.lock import lock_model

    lock = lock_model(model)
    assert lock.wheel("numpy").version == "2.2.6"
    assert lock.wheel("six") is not None and lock.wheel("six").requested
    assert [w.name for w in lock.wheels] == sorted(w.name for w in lock.wheels)
    assert lock.target.gpu is False and lock.target.cuda is None


def test_check_without_lock_exits_1(tmp_path):
    result = CliRunner().invoke(cli, ["lock", "--check", str(_copy(tmp_path))])
    assert result.exit_code == 1
    assert "no lock.json" in result.output


def _gpu_model(tmp_path: Path, cuda: str | None) -> Path:
    model = _copy(tmp_path)
    extra = '  gpu: true\n  python_packages: ["torch==2.5.1"]\n' + (f'  cuda: "{cuda}"\n' if cuda else "")
    text = (model / "cog.yaml").read_text()
    (model / "cog.yaml").write_text(text.replace("build:\n", "build:\n" + extra))
    return model


def test_gpu_cuda_derived_from_locked_torch(tmp_path):
    """Resolution reads metadata only: the 2 GB of CUDA wheels are never downloaded."""
    from cognix.lock import lock_model

    lock = lock_model(_gpu_model(tmp_path, None))
    assert lock.wheel("torch").version == "2.5.1"
    assert (lock.target.gpu, lock.target.cuda, lock.target.cudnn) == (True, "12.4", "9")


def test_gpu_cuda_mismatch_is_refused(tmp_path):
    from cognix.lock import lock_model

    with pytest.raises(LockError, match=r"build.cuda is 11.8 but the locked torch 2.5.1 was built for CUDA 12.4"):
        lock_model(_gpu_model(tmp_path, "11.8"))


def test_direct_url_wheel_requirement():
    url = resolve(["idna"])["idna"].url  # a real wheel URL from the configured index; no host named here
    direct = resolve([f"idna @ {url}", "anyio"])
    idna = direct["idna"]
    assert idna.is_direct and idna.requested and idna.url == url
    assert idna.version and idna.size > 0 and len(idna.sha256) == 64
    assert "idna" in direct["anyio"].dependencies
