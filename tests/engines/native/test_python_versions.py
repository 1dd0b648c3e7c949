"""Integration: hello built on every interpreter source the native engine has, answering a prediction in Docker.

Debian's interpreters for real (bullseye's 3.9, forky's 3.14; 3.11 and 3.13 are covered by the other builds), and a
python-build-standalone interpreter from a local mirror: python-build-standalone's own downloads are not reachable
from the machines these tests run on, so the archive is assembled in that project's install_only layout
(tests/pbs_fixture.py) and served on 127.0.0.1; uv's real download list names it, with the mirror applied.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import unquote

import dockerkit
import httpx
import pbs_fixture
import pytest

from cognix.engines.native.build import build
from cognix.lock import lock_model, write_lock

HELLO = Path(__file__).resolve().parents[3] / "examples" / "hello"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _hello(root: Path, python_version: str, extra: str = "") -> Path:
    model = root / f"hello-{python_version}"
    shutil.copytree(HELLO, model, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
    text = (model / "cog.yaml").read_text().replace('python_version: "3.11"', f'python_version: "{python_version}"')
    (model / "cog.yaml").write_text(text.replace("build:\n", f"build:\n{extra}", 1))
    return model


def _predict_and_probe(result, probe: str) -> tuple[dict, dict]:
    dockerkit.load(result.result_path)
    try:
        with dockerkit.running(result.plan.repo_tag) as (base, cid):
            health = dockerkit.wait_ready(base)
            body = httpx.post(f"{base}/predictions", json={"input": {"name": "py"}}, timeout=60).json()
            assert body["status"] == "succeeded", body
            assert body["output"]["greeting"] == "hello py!"
            return health, json.loads(dockerkit.exec_python(cid, probe))
    finally:
        dockerkit.remove_image(result.plan.repo_tag)


PROBE = ("import json, sys, sysconfig, starlette; print(json.dumps({'exe': sys.executable, 'prefix': sys.prefix, "
         "'starlette': starlette.__file__, 'include': sysconfig.get_paths()['include'], "
         "'cc': sysconfig.get_config_var('CC'), 'version': list(sys.version_info[:2])}))")


@pytest.mark.parametrize(("version", "suite"), [("3.9", "bullseye"), ("3.14", "forky")])
def test_debian_interpreters(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, version: str,
                             suite: str) -> None:
    dockerkit.docker_or_skip()
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(cache))
    model = _hello(tmp_path, version)
    lock = lock_model(model)
    assert (lock.target.python_source, lock.target.debian_suite, lock.python) == ("debian", suite, None)
    write_lock(model, lock)
    health, probe = _predict_and_probe(build(model, out=tmp_path / "result"), PROBE)
    assert health["version"]["python"].startswith(version + ".")
    assert probe["exe"] in ("/usr/bin/python", f"/usr/bin/python{version}", "/usr/bin/python3")
    assert probe["starlette"].startswith("/usr/lib/python3/dist-packages/")


@pytest.fixture(scope="module")
def pbs_archive(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> bytes:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COGNIX_CACHE_DIR", str(cache))
        return pbs_fixture.assemble(tmp_path_factory.mktemp("pbs"))


def test_standalone_interpreter_from_a_mirror(tmp_path: Path, cache: Path, pbs_archive: bytes,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    dockerkit.docker_or_skip()
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(cache))
    libs = "".join(f"    - {p}\n" for p in pbs_fixture.FIXTURE_LIBS)
    model = _hello(tmp_path, pbs_fixture.MINOR, f"  system_packages:\n{libs}")
    with pbs_fixture.standalone_mirror(tmp_path, {pbs_fixture.MINOR: pbs_archive}) as mirror:
        lock = lock_model(model, python_source="standalone", python_mirror=mirror.url)
        write_lock(model, lock)
        result = build(model, out=tmp_path / "result")  # fetches the archive from the mirror
        assert any(unquote(r).endswith(mirror.filename) for r in mirror.requests)
    assert lock.python is not None and (lock.python.filename, lock.python.sha256) == (mirror.filename, mirror.sha256["3.11"])
    assert lock.options.python_source == "standalone" and lock.target.debian_suite == "bookworm"
    assert not any(d.package.startswith("python3") for d in lock.debs)  # the interpreter is not Debian's
    health, probe = _predict_and_probe(result, PROBE)
    assert probe["exe"].startswith("/usr/local/bin/python") and probe["prefix"] == "/usr/local"
    assert probe["starlette"].startswith("/usr/local/lib/python3.11/site-packages/")
    assert probe["include"] == "/usr/local/include/python3.11" and probe["cc"].split()[0] == "cc"
    assert probe["version"] == [3, 11]
    layers = [layer.comment for layer in result.plan.layers]
    assert any(c.startswith("python/cpython-3.11.") for c in layers), layers


def test_standalone_interpreter_from_the_real_downloads(tmp_path: Path, cache: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same with python-build-standalone's own archive, where its downloads can be reached."""
    if os.environ.get("COGNIX_TEST_REAL_PBS") != "1":
        pytest.skip("python-build-standalone's downloads (uv's default mirror) are not reachable from the machines "
                    "this suite runs on; where they are, COGNIX_TEST_REAL_PBS=1 runs this test")
    dockerkit.docker_or_skip()
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(cache))
    model = _hello(tmp_path, "3.12")
    lock = lock_model(model)
    assert lock.python is not None and lock.python.version.startswith("3.12.")
    write_lock(model, lock)
    health, probe = _predict_and_probe(build(model, out=tmp_path / "result"), PROBE)
    assert health["version"]["python"] == lock.python.version and probe["prefix"] == "/usr/local"
