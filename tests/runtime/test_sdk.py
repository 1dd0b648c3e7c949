"""The `cog` SDK shim and runner loading (class, function, async, generator, training)."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cognix.runtime.predictor import Runner, RunnerError, load_runner
from cognix.runtime.shim import SHIM_DIR, install_shim

install_shim()
RUNTIME_PYTHON = os.environ.get("COGNIX_RUNTIME_PYTHON") or sys.executable  # as in conftest.py


def load(tmp_path: Path, source: str, ref: str = "predict.py:Predictor", mode: str = "predict") -> Runner:
    (tmp_path / ref.split(":")[0]).write_text(textwrap.dedent(source))
    return load_runner(ref, mode=mode, cwd=tmp_path)


def test_public_names_and_modules() -> None:
    import cog

    for name in ("BasePredictor", "BaseRunner", "Input", "FieldInfo", "BaseModel", "Path", "File", "Secret",
                 "URLPath", "URLFile", "ConcatenateIterator", "AsyncConcatenateIterator", "Opaque",
                 "CancelationException", "current_scope", "streaming", "concurrent", "__version__",
                 "ExperimentalFeatureWarning", "emit_metric"):
        assert hasattr(cog, name), name
    for module in ("cog.types", "cog.predictor", "cog.input", "cog.model", "cog.coder", "cog.mode", "cog.errors",
                   "cog.suppress_output", "cog.exceptions"):
        importlib.import_module(module)
    from cog.exceptions import CancelationException

    assert CancelationException is cog.CancelationException
    assert issubclass(cog.CancelationException, BaseException)
    assert not issubclass(cog.CancelationException, Exception)
    assert issubclass(cog.ExperimentalFeatureWarning, FutureWarning)
    assert cog.__version__.startswith("0.23.1")
    assert cog.__file__.startswith(str(SHIM_DIR))


def test_sdk_types_behave_like_cog() -> None:
    import pathlib

    import cog
    from cog.mode import Mode

    secret = cog.Secret("hunter2")
    assert str(secret) == "**********" and repr(secret) == "Secret(**********)"
    assert secret.get_secret_value() == "hunter2"
    assert str(cog.Secret(None)) == ""
    assert issubclass(cog.Path, pathlib.PosixPath)
    url_path = cog.Path.validate("data:text/plain;base64,aGk=")
    assert isinstance(url_path, cog.URLPath) and str(url_path) == "data:text/plain;base64,aGk="
    assert isinstance(cog.Path.validate("/tmp/x"), cog.Path)
    assert cog.File.validate("data:text/plain;base64,aGk=").read() == b"hi"
    assert Mode.TRAIN.value == "train"

    class Out(cog.BaseModel):
        text: str
        score: float = 0.5

    assert Out(text="a") == Out(text="a", score=0.5)
    with pytest.raises(TypeError):
        cog.Input(default_factory=list)


def test_scope_metrics() -> None:
    import cog
    from cog._scope import Scope, use_scope

    cog.current_scope().record_metric("ignored", 1)  # no-op outside a prediction
    scope = Scope(context={"user": "x"})
    with use_scope(scope):
        cog.current_scope().record_metric("timing.inference", 1.5)
        cog.current_scope().metrics.record("tokens", 2, mode="incr")
        cog.current_scope().metrics.record("tokens", 3, mode="incr")
        cog.current_scope().metrics.record("seen", "a", mode="append")
        assert cog.current_scope().context == {"user": "x"}
        with pytest.raises(ValueError):
            cog.current_scope().record_metric("predict_time", 1)
    assert scope.metrics.to_dict() == {"timing": {"inference": 1.5}, "tokens": 5, "seen": ["a"]}


def test_concurrent_decorator_rules() -> None:
    import cog

    with pytest.raises(TypeError):
        @cog.concurrent(max=2)
        def run() -> str:
            return ""

    @cog.concurrent(max=4)
    async def run_async() -> str:
        return ""

    assert run_async.__cog_concurrent_max__ == 4
    with pytest.raises(TypeError):
        cog.concurrent(max=True)
    with pytest.raises(ValueError):
        cog.concurrent(max=0)


def test_class_runner_with_inputs_defaults_and_weights(tmp_path: Path) -> None:
    runner = load(tmp_path, """
        from cog import BasePredictor, Input

        class Predictor(BasePredictor):
            def setup(self, weights=None):
                self.weights = weights

            def predict(self, text: str, n: int = Input(default=2, ge=1), tags: list = []) -> str:
                tags.append("x")
                return f"{self.weights}:{text * n}:{len(tags)}"
    """)
    info = runner.info
    assert info.method == "predict" and info.setup_takes_weights and not info.is_async
    assert [i.name for i in info.inputs] == ["text", "n", "tags"]
    assert runner.setup("w.bin") is None
    assert runner.call({"text": "ab"}) == "w.bin:abab:1"
    assert runner.call({"text": "a", "n": 1}) == "w.bin:a:1"  # mutable default not shared


def test_function_runner_and_default_name(tmp_path: Path) -> None:
    runner = load(tmp_path, """
        def train(steps: int = 3) -> int:
            return steps * 2
    """, ref="train.py:train", mode="train")
    assert runner.call({}) == 6 and runner.info.method == "train" and not runner.info.is_class
    (tmp_path / "run.py").write_text(textwrap.dedent("""
        from cog import BaseRunner
        class Runner(BaseRunner):
            def run(self) -> str:
                return "ok"
    """))
    runner = load_runner("run.py", cwd=tmp_path)
    assert runner.info.name == "Runner" and runner.info.method == "run"
    runner.setup(None)
    assert runner.call({}) == "ok"


def test_async_and_generator_runners(tmp_path: Path) -> None:
    runner = load(tmp_path, """
        from typing import AsyncIterator
        from cog import BaseRunner, streaming, concurrent

        class Predictor(BaseRunner):
            async def setup(self) -> None:
                self.prefix = "p"

            @streaming
            @concurrent(max=3)
            async def run(self, n: int) -> AsyncIterator[str]:
                for i in range(n):
                    yield f"{self.prefix}{i}"
    """)
    info = runner.info
    assert info.is_async and info.is_generator and info.streaming and info.concurrent_max == 3
    assert info.output.iterator and info.output.is_async_iterator and info.setup_is_async
    assert inspect.iscoroutine(setup := runner.setup(None))
    asyncio.run(setup)

    async def collect() -> list[str]:
        return [x async for x in runner.call({"n": 3})]

    assert asyncio.run(collect()) == ["p0", "p1", "p2"]

    gen = load(tmp_path, """
        from cog import BasePredictor, ConcatenateIterator

        class Predictor(BasePredictor):
            def predict(self) -> ConcatenateIterator[str]:
                yield "a"
                yield "b"
    """)
    assert gen.info.is_generator and gen.info.is_concatenate and list(gen.call({})) == ["a", "b"]


@pytest.mark.parametrize("source, message", [
    ("""
        from cog import BasePredictor
        class Predictor(BasePredictor):
            def run(self) -> str: ...
            def predict(self) -> str: ...
     """, "both run() and predict()"),
    ("""
        from cog import BasePredictor
        class Predictor(BasePredictor):
            def predict(self, x: str):
                return x
     """, "return type annotation"),
    ("""
        from cog import BasePredictor
        class Predictor(BasePredictor):
            def predict(self, x) -> str:
                return x
     """, "needs a type annotation"),
    ("""
        from cog import BasePredictor
        class Predictor(BasePredictor):
            def predict(self, *args: str) -> str:
                return ""
     """, "*args"),
    ("""
        from cog import BasePredictor, Input
        class Predictor(BasePredictor):
            def predict(self, x: str = Input(ge=1)) -> str:
                return x
     """, "ge/le apply only"),
    ("""
        from cog import BasePredictor, Input
        class Predictor(BasePredictor):
            def predict(self, x: str = Input(choices=["a"])) -> str:
                return x
     """, "at least 2"),
    ("""
        from typing import Optional
        from cog import BasePredictor
        class Predictor(BasePredictor):
            def predict(self) -> Optional[str]:
                return None
     """, "Optional"),
    ("""
        from cog import BasePredictor
        class Predictor(BasePredictor):
            def setup(self, model_path) -> None: ...
            def predict(self) -> str:
                return ""
     """, "setup()"),
    ("""
        import does_not_exist_anywhere
     """, "No module named 'does_not_exist_anywhere'"),
    ("""
        class Other: ...
     """, "has no 'Predictor'"),
])
def test_definition_errors(tmp_path: Path, source: str, message: str) -> None:
    with pytest.raises(RunnerError) as err:
        load(tmp_path, source)
    assert message in err.value.message


def test_missing_file_is_a_runner_error(tmp_path: Path) -> None:
    with pytest.raises(RunnerError, match="not found"):
        load_runner("nope.py:Predictor", cwd=tmp_path)


def test_install_shim_yields_to_an_installed_cog(tmp_path: Path) -> None:
    repo = str(Path(__file__).resolve().parents[2])
    probe = ("from cognix.runtime.shim import install_shim, SHIM_DIR; import sys; added = install_shim(); "
             "import cog; print(added, getattr(sys.meta_path[-1], 'cognix_cog_shim', False), cog.__file__)")
    run = lambda path, code=probe: subprocess.run([RUNTIME_PYTHON, "-c", code],
                                                  env={"PYTHONPATH": path, "PATH": "/usr/bin"}, capture_output=True,
                                                  text=True, timeout=60, cwd=tmp_path).stdout.split()
    added, last, where = run(repo)
    assert (added, last) == ("True", "True") and where.startswith(str(SHIM_DIR))
    upstream = tmp_path / "site" / "cog"
    upstream.mkdir(parents=True)
    (upstream / "__init__.py").write_text("")
    added, last, where = run(f"{repo}:{tmp_path / 'site'}")
    assert (added, last) == ("False", "True") and where == str(upstream / "__init__.py")
    # a `cog` that reaches sys.path only after the shim was installed still wins: the finder asks last
    late = ("from cognix.runtime.shim import install_shim; import sys; install_shim(); "
            f"sys.path.append({str(tmp_path / 'site')!r}); import cog; print(cog.__file__)")
    assert run(repo, late) == [str(upstream / "__init__.py")]
