"""The model corpus (tests/models/): small Cog models, each reproducing a pattern of real public Cog models.

Fast: tests/models/corpus.toml describes every model, completely and consistently.
Slow: every model through the real CLI, on a copy: `cognix lock`; `cognix build` when its stage says so; then
`./result load`, `docker run`, one prediction over HTTP, checked against corpus.toml. Each case goes exactly as far
as its `stage` (the furthest stage a CPU-only CI machine that reaches the package index and the Debian mirror can
reach); a model recorded as `none` must fail to lock cleanly.

COGNIX_CORPUS_CACHE_DIR names a download cache to reuse across runs (default: one per session, shared by all
cases). COGNIX_CORPUS_REPORT names a file to which each case appends one JSON line: the stage reached, and the
first line of the error that stopped it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pbs_fixture
import pytest
import yaml
from servicekit import free_port, static_files

MODELS = Path(__file__).resolve().parent / "models"
CORPUS: dict[str, dict[str, Any]] = tomllib.loads((MODELS / "corpus.toml").read_text())
NAMES = sorted(CORPUS)

STAGES = ("none", "lock", "build", "predict")
NEEDS = {
    # python-build-standalone's downloads are not reachable from CI: a local mirror serves archives in its layout,
    # assembled from this machine's own CPython builds (pyenv's); without one for that version, a model only locks
    "python-build-standalone": "its Python is not shipped by a Debian suite (served by a local mirror)",
    "pytorch-index": "names a PyTorch index or find-links page",
    "large-download": "torch/CUDA wheels (GBs)",
}
STANDALONE_PYTHONS = {"3.8", "3.10", "3.12"}  # no Debian suite ships them
DEBIAN_PYTHONS = {"3.9", "3.11", "3.13", "3.14"}  # bullseye, bookworm, trixie, forky
MIN_MODELS = 24
# How a lock that could not reach a host says so (cognix's own words, and uv's).
NETWORK_FAILURE = ("cannot reach", "unreachable", "failed to fetch", "failed to read", "dns error",
                   "name or service not known", "connection refused", "timed out")

# Wall-clock bounds per step (seconds). Builds are long for the C/C++ sdists (sentencepiece compiles its library).
TIMEOUT = {"lock": 600, "build": 1500, "load": 600, "run": 60, "ready": 180, "predict": 300, "cleanup": 120}


# ---------------------------------------------------------------- metadata (fast)


def _python_version_text(model: Path) -> str:
    """python_version as written (YAML would turn an unquoted 3.10 into 3.1), major.minor only."""
    match = re.search(r"^\s+python_version:\s*[\"']?(\d+)\.(\d+)", (model / "cog.yaml").read_text(), re.M)
    assert match, f"{model.name}/cog.yaml has no build.python_version"
    return f"{match.group(1)}.{match.group(2)}"


def _requirement_lines(model: Path, build: dict[str, Any]) -> list[str]:
    lines = [str(p) for p in build.get("python_packages") or []]
    if build.get("python_requirements"):
        lines += (model / build["python_requirements"]).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _unreachable(model: Path, needs: list[str]) -> list[str]:
    """What a stage-`none` lock may legitimately fail on: the hosts the model names, the interpreter download."""
    text = "\n".join(p.read_text() for p in sorted(model.iterdir()) if p.suffix in (".yaml", ".txt", ".in"))
    hosts = sorted(set(re.findall(r"https?://([^/\s\"']+)", text)))
    return hosts + (["python-build-standalone"] if "python-build-standalone" in needs else [])


def _derived_stage(needs: list[str]) -> str:
    if "pytorch-index" in needs:
        return "none"
    return "lock" if set(needs) - {"python-build-standalone"} else "predict"


def test_corpus_lists_every_model() -> None:
    dirs = {p.parent.name for p in MODELS.glob("*/cog.yaml")}
    assert dirs == set(CORPUS), (
        f"directories without a corpus.toml entry: {sorted(dirs - set(CORPUS))}; "
        f"entries without a directory: {sorted(set(CORPUS) - dirs)}")
    assert len(dirs) >= MIN_MODELS
    stray = [p.name for p in MODELS.iterdir() if p.is_dir() and p.name not in dirs]
    assert not stray, f"directories under tests/models without cog.yaml: {stray}"


@pytest.mark.parametrize("name", NAMES)
def test_corpus_entry_is_complete(name: str) -> None:
    spec = CORPUS[name]
    model = MODELS / name
    known = {"pattern", "sources", "needs", "stage", "stage_elsewhere", "note", "predict", "secrets"}
    assert set(spec) <= known, f"unknown keys {sorted(set(spec) - known)}"
    assert isinstance(spec.get("pattern"), str) and len(spec["pattern"].strip()) > 10, "pattern must say what it is"
    sources = spec.get("sources")
    assert isinstance(sources, list) and sources, "sources must name at least one public model"
    for source in sources:
        assert isinstance(source, str) and re.match(r"^[\w.-]+/[\w.-]+", source), (
            f"a source starts with owner/repo: {source!r}")
        assert len(source) > len(source.split()[0]) + 5, f"a source says what the model shows: {source!r}"

    needs = spec.get("needs")
    assert isinstance(needs, list) and set(needs) <= set(NEEDS), f"needs must be among {sorted(NEEDS)}"
    assert spec.get("stage") in STAGES and spec.get("stage_elsewhere") in STAGES, f"stages are {STAGES}"
    stage, elsewhere = STAGES.index(spec["stage"]), STAGES.index(spec["stage_elsewhere"])
    assert elsewhere >= stage, "stage_elsewhere is where every need is met: never below stage"
    derived = _derived_stage(needs)
    assert stage <= STAGES.index(derived), f"with needs {needs} CI cannot go past {derived!r}"
    if stage < STAGES.index(derived):
        assert spec.get("note"), "a stage below what the needs allow must be explained in note"

    predict = spec.get("predict")
    assert isinstance(predict, dict), "every model documents its prediction"
    assert set(predict) <= {"endpoint", "input", "output", "contains"}
    assert predict.get("endpoint", "predictions") in ("predictions", "trainings")
    assert isinstance(predict.get("input"), dict)
    assert "output" in predict or predict.get("contains"), "an expected output or substrings of it"
    assert all(isinstance(s, str) and s for s in predict.get("contains", []))

    # The model's files are there and agree with the metadata.
    config = yaml.safe_load((model / "cog.yaml").read_text())
    build = config.get("build") or {}
    for key in ("predict", "train"):
        if key in config:
            assert (model / config[key].split(":")[0]).is_file(), f"{key}: {config[key]} is missing"
    assert "predict" in config
    if predict.get("endpoint") == "trainings":
        assert "train" in config, "a trainings check needs train: in cog.yaml"
    if build.get("python_requirements"):
        assert (model / build["python_requirements"]).is_file()
    for path in model.rglob("*.py"):
        assert len(path.read_text()) < 4000, f"{path.name} should stay small"

    minor = _python_version_text(model)
    assert name.startswith(f"py{minor.replace('.', '')}-"), f"the name starts with the Python it uses ({minor})"
    assert minor in STANDALONE_PYTHONS | DEBIAN_PYTHONS
    assert ("python-build-standalone" in needs) == (minor in STANDALONE_PYTHONS), (
        f"Python {minor} {'needs' if minor in STANDALONE_PYTHONS else 'does not need'} python-build-standalone")
    lines = _requirement_lines(model, build)
    if any(re.match(r"^(torch|torchvision|torchaudio)\b", line) for line in lines):
        assert {"large-download", "pytorch-index"} & set(needs), "torch is a large download"
    if any("download.pytorch.org" in line for line in lines):
        assert "pytorch-index" in needs


# ---------------------------------------------------------------- the real CLI (slow)


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("cognix")  # pyproject's [project.scripts] entry in the venv
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from cognix.cli.main import main; main()"]


def _run(argv: list[str], *, timeout: float, env: dict[str, str] | None = None,
         cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run argv in its own process group; on timeout the whole group is killed (uv, bwrap and compilers too)."""
    started = time.monotonic()
    try:
        return _run_group(argv, timeout=timeout, env=env, cwd=cwd)
    finally:  # how long each step took: printed (pytest -s shows it) and in the report's line
        step = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(argv[:2]))
        _steps().append((step, round(time.monotonic() - started, 1)))
        print(f"corpus step {step!r}: {_steps()[-1][1]}s")


_CASE = threading.local()  # the steps of the case this thread runs (cases run side by side: see corpus_runs)


def _steps() -> list[tuple[str, float]]:
    if not hasattr(_CASE, "steps"):
        _CASE.steps = []
    return _CASE.steps


def _run_group(argv: list[str], *, timeout: float, env: dict[str, str] | None,
               cwd: Path | None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return subprocess.CompletedProcess(argv, -9, out, (err or "") + f"\ntimed out after {timeout}s")
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _first_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines() if line.strip()]
    for line in lines:
        if line.startswith("error:"):
            return line
    if any(line.startswith("Traceback") for line in lines):
        return "traceback: " + lines[-1]
    return lines[-1] if lines else f"exit status {result.returncode}, no output"


def _tail(text: str, n: int = 3000) -> str:
    return text if len(text) <= n else "..." + text[-n:]


class Report:
    """Which stage a case reached and why it stopped; appended to $COGNIX_CORPUS_REPORT when set."""

    def __init__(self, name: str) -> None:
        self.name, self.reached, self.error = name, "none", ""
        _CASE.steps = []

    def fail(self, stage: str, message: str, detail: str = "") -> None:
        self.error = f"{stage}: {message}"
        pytest.fail(f"{self.name}: {stage} failed (reached {self.reached!r}): {message}" +
                    (f"\n{detail}" if detail else ""), pytrace=False)

    def write(self) -> None:
        path = os.environ.get("COGNIX_CORPUS_REPORT")
        if path:
            with open(path, "a") as f:
                f.write(json.dumps({"model": self.name, "expected": CORPUS[self.name]["stage"],
                                    "reached": self.reached, "error": self.error,
                                    "steps": [list(s) for s in _steps()]}) + "\n")


def _decoded(value: Any) -> Any:
    """File outputs made comparable: a text/* data URL becomes its text, any other data URL "data:<mime>"."""
    if isinstance(value, str) and value.startswith("data:"):
        meta, _, payload = value[len("data:"):].partition(",")
        mime = meta.split(";")[0]
        if not mime.startswith("text/"):
            return f"data:{mime}"
        data = base64.b64decode(payload) if meta.endswith(";base64") else urllib.parse.unquote_to_bytes(payload)
        return data.decode()
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()}
    return value


def _docker(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return _run(["docker", *args], timeout=timeout)


@pytest.fixture(scope="session")
def corpus_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One download cache for every case: models share Debian suites and wheels."""
    return os.environ.get("COGNIX_CORPUS_CACHE_DIR") or str(tmp_path_factory.mktemp("corpus-cache"))


@dataclass(frozen=True)
class Standalone:
    mirror: str  # UV_PYTHON_INSTALL_MIRROR for the CLI
    real: frozenset[str]  # the minors served as real builds; the others only as bytes to pin (lock only)


@pytest.fixture(scope="session")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    """A python-build-standalone mirror on 127.0.0.1 for the versions no Debian suite ships. Its real downloads are
    not reachable from CI, so each archive is assembled in their install_only layout from a CPython build of that
    version on this machine (pyenv's, made self-contained and relocatable); a version without one is served as
    placeholder bytes, which lock but never build."""
    work = tmp_path_factory.mktemp("pbs")
    archives, real = {}, set()
    for minor in sorted(STANDALONE_PYTHONS):
        built = pbs_fixture.archive_for(minor, work)
        if built is not None:
            real.add(minor)
        archives[minor] = built if built is not None else pbs_fixture.placeholder()
    with pbs_fixture.standalone_mirror(work, archives) as mirror:
        yield Standalone(mirror.url, frozenset(real))


def _expected_stage(name: str, spec: dict[str, Any], standalone: Standalone) -> str:
    stage, minor = spec["stage"], _python_version_text(MODELS / name)
    if minor in STANDALONE_PYTHONS and minor not in standalone.real and STAGES.index(stage) > 1:
        print(f"{name}: no CPython {minor} build on this machine to serve as python-build-standalone's: lock only")
        return "lock"
    return stage


def _case(name: str, cache: str, standalone: Standalone, tmp_path: Path) -> None:
    report = Report(name)
    try:
        _exercise(name, CORPUS[name], cache, standalone, tmp_path, report)
    finally:
        report.write()


@pytest.fixture(scope="module")
def corpus_runs(request: pytest.FixtureRequest, corpus_cache: str, standalone: Standalone,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[None]]]:
    """The selected cases, started together and run COGNIX_CORPUS_JOBS (default 2) at a time: a case spends most
    of its time on downloads, docker and waiting for a container, so two side by side take about half the wall time
    (builds on one shared cache are safe: cognix's store takes concurrent builds). Each test_model waits for its own
    case, so failures, skips and timings stay per case."""
    names = [item.callspec.params["name"] for item in request.session.items
             if getattr(item, "originalname", "") == "test_model" and hasattr(item, "callspec")]
    jobs = max(1, int(os.environ.get("COGNIX_CORPUS_JOBS", "2")))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {name: pool.submit(_case, name, corpus_cache, standalone, tmp_path_factory.mktemp(name))
                   for name in names}
        yield futures
        for future in futures.values():
            future.cancel()


@pytest.mark.slow
@pytest.mark.timeout(sum(TIMEOUT.values()) + 120)
@pytest.mark.parametrize("name", NAMES)
def test_model(name: str, corpus_runs: dict[str, Future[None]]) -> None:
    corpus_runs[name].result()  # re-raises the case's failure or skip here


def _exercise(name: str, spec: dict[str, Any], cache: str, standalone: Standalone, tmp_path: Path,
              report: Report) -> None:
    with contextlib.ExitStack() as stack:
        model = tmp_path / name  # the directory name is the image name: cognix-<name>
        shutil.copytree(MODELS / name, model, ignore=shutil.ignore_patterns("result", "lock.json", "__pycache__"))
        if (model / "www").is_dir():  # files a build.run step fetches: served on 127.0.0.1, at {{WWW}} in cog.yaml
            base, _requests = stack.enter_context(static_files(model / "www"))
            (model / "cog.yaml").write_text((model / "cog.yaml").read_text().replace("{{WWW}}", base))
        secrets = []
        for secret_id, value in (spec.get("secrets") or {}).items():
            (tmp_path / f"secret-{secret_id}").write_text(value)
            secrets += ["--secret", f"id={secret_id},src={tmp_path / f'secret-{secret_id}'}"]
        _stages(name, spec, model, cache, standalone, tmp_path, report, secrets)


def _fresh_store(cache: str, tmp_path: Path) -> str:
    """A cache with the downloads of `cache` (hard-linked) and nothing built from them: a rebuild from it makes
    every store entry, layer and schema again."""
    fresh = tmp_path / "fresh-cache"
    for part in ("blobs", "debian"):
        if (Path(cache) / part).is_dir():
            shutil.copytree(Path(cache) / part, fresh / part, copy_function=os.link)
    return str(fresh)


def _stages(name: str, spec: dict[str, Any], model: Path, cache: str, standalone: Standalone, tmp_path: Path,
            report: Report, secrets: list[str]) -> None:
    stage = _expected_stage(name, spec, standalone)
    env = {**os.environ, "COGNIX_CACHE_DIR": cache, "UV_PYTHON_INSTALL_MIRROR": standalone.mirror}

    lock = _run([*_cli(), "lock", str(model)], timeout=TIMEOUT["lock"], env=env, cwd=tmp_path)
    if stage == "none":
        if lock.returncode == 0:
            report.reached = "lock"
            pytest.fail(f"{name} locked although corpus.toml says stage 'none' ({', '.join(spec['needs'])}): "
                        f"raise its stage", pytrace=False)
        report.error = f"lock: {_first_error(lock)}"
        assert lock.returncode == 1 and "Traceback" not in lock.stderr, (
            f"lock must fail cleanly (exit 1, no traceback): exit {lock.returncode}\n{_tail(lock.stderr)}")
        errors = [line for line in lock.stderr.splitlines() if line.startswith("error:")]
        assert errors, _tail(lock.stderr)
        # ...and because of what is unreachable, not because the model's files were misread.
        unreachable = _unreachable(MODELS / name, spec["needs"])
        assert any(u in lock.stderr for u in unreachable) and any(
            phrase.lower() in lock.stderr.lower() for phrase in NETWORK_FAILURE), (
            f"lock failed, but not over what is unreachable ({', '.join(unreachable)}): {errors[0]}")
        return
    if lock.returncode != 0:
        report.fail("lock", _first_error(lock), _tail(lock.stderr))
    locked = json.loads((model / "lock.json").read_text())
    target = locked.get("cognix", {}).get("target", {})
    minor = _python_version_text(model)
    assert target.get("python_version", minor) == minor, f"locked Python {target.get('python_version')}, not {minor}"
    report.reached = "lock"
    if stage == "lock":
        return

    built = _run([*_cli(), "build", "--frozen", *secrets, "-o", str(model / "result"), str(model)],
                 timeout=TIMEOUT["build"], env=env, cwd=tmp_path)
    if built.returncode != 0 or not (model / "result").exists():
        report.fail("build", _first_error(built), _tail(built.stderr))
    # again from a store with nothing built in it (the downloads shared): the same image, byte for byte; this time
    # the schema comes from importing the model in the image, so a static schema that differs shows here
    again = _run([*_cli(), "build", "--frozen", *secrets, "-o", str(tmp_path / "result-again"), str(model)],
                 timeout=TIMEOUT["build"],
                 env={**env, "COGNIX_CACHE_DIR": _fresh_store(cache, tmp_path), "COGNIX_SCHEMA": "import"},
                 cwd=tmp_path)
    if again.returncode != 0:
        report.fail("build", "rebuilding from a fresh store: " + _first_error(again), _tail(again.stderr))
    ids = [re.search(r" (sha256:[0-9a-f]{64})$", out.stdout, re.M) for out in (built, again)]
    if not all(ids) or ids[0].group(1) != ids[1].group(1):
        report.fail("build", f"two builds (the schema static where it can be, then imported), two images: "
                             f"{[m.group(1) if m else None for m in ids]}")
    report.reached = "build"
    if stage == "build":
        return

    if shutil.which("docker") is None:
        pytest.skip("docker is not installed")
    _predict(name, spec["predict"], model, built.stdout, report)
    report.reached = "predict"


def _predict(name: str, predict: dict[str, Any], model: Path, build_stdout: str, report: Report) -> None:
    match = re.search(r"^(\S+:\S+) sha256:[0-9a-f]{64}$", build_stdout, re.M)  # `cognix build` names the image
    tag = match.group(1) if match else None
    existed = tag is not None and _docker("image", "inspect", tag, timeout=TIMEOUT["cleanup"]).returncode == 0
    cid = None
    try:
        load = _run([str(model / "result"), "load"], timeout=TIMEOUT["load"])
        if load.returncode != 0:
            report.fail("load", _first_error(load), _tail(load.stderr))
        loaded = re.search(r"Loaded image:? (\S+)", load.stdout + load.stderr)
        tag = tag or (loaded.group(1) if loaded else None)
        if tag is None:
            report.fail("load", "no image name in the output of cognix build or ./result load", _tail(load.stdout))
        port = free_port()
        started = _docker("run", "-d", "-p", f"127.0.0.1:{port}:5000", tag, timeout=TIMEOUT["run"])
        if started.returncode != 0:
            report.fail("run", _first_error(started))
        cid = started.stdout.strip()
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, cid, report)
        endpoint = predict.get("endpoint", "predictions")
        try:
            response = httpx.post(f"{base}/{endpoint}", json={"input": predict["input"]}, timeout=TIMEOUT["predict"])
            body = response.json()
        except (httpx.HTTPError, ValueError) as err:
            report.fail("predict", f"POST /{endpoint}: {err!r}", _logs(cid))
        if response.status_code != 200 or body.get("status") != "succeeded":
            report.fail("predict", f"HTTP {response.status_code} status {body.get('status')!r}: "
                                   f"{str(body.get('error') or body.get('detail'))[:300]}",
                        f"{json.dumps(body)[:2000]}\n{_logs(cid)}")
        _check_output(name, predict, body.get("output"), report)
    finally:
        if cid:
            _docker("rm", "-f", cid, timeout=TIMEOUT["cleanup"])
        if tag and not existed:  # never remove an image that was there before this test
            _docker("rmi", "-f", tag, timeout=TIMEOUT["cleanup"])


def _wait_ready(base: str, cid: str, report: Report) -> None:
    deadline = time.monotonic() + TIMEOUT["ready"]
    status = None
    while time.monotonic() < deadline:
        try:
            status = httpx.get(f"{base}/health-check", timeout=2).json().get("status")
        except (httpx.HTTPError, ValueError):
            status = None
        if status == "READY":
            return
        if status in ("SETUP_FAILED", "DEFUNCT"):
            break
        state = _docker("inspect", "-f", "{{.State.Running}}", cid, timeout=30).stdout.strip()
        if state == "false":
            status = "container exited"
            break
        time.sleep(0.5)
    report.fail("predict", f"not ready: {status or 'no answer'} after {TIMEOUT['ready']}s", _logs(cid))


def _logs(cid: str) -> str:
    logs = _docker("logs", "--tail", "60", cid, timeout=30)
    return "--- container logs ---\n" + _tail(logs.stdout + logs.stderr)


def _check_output(name: str, predict: dict[str, Any], output: Any, report: Report) -> None:
    decoded = _decoded(output)
    text = decoded if isinstance(decoded, str) else json.dumps(decoded)
    if "output" in predict and decoded != predict["output"]:
        report.fail("predict", f"output {text[:300]!r} != expected {predict['output']!r}")
    missing = [s for s in predict.get("contains", []) if s not in text]
    if missing:
        report.fail("predict", f"output {text[:300]!r} lacks {missing}")
