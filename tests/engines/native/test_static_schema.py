"""The schema from predict.py's source: the stub keeps what the schema is made of, refuses what it can't decide,
and gives the same schema as importing the model on every corpus model where both run here."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cognix.engines.native.static_schema import make_stub, runner_stubs, static_schema

REPO = Path(__file__).resolve().parents[3]
RUNNERS = {"Predictor"}

TORCH_MODEL = '''
"""A model."""
import os
import torch
from cog import BasePredictor, Input, Path
from typing import Iterator

SIZES = [256, 512]


class Predictor(BasePredictor):
    def setup(self):
        self.model = torch.load("w.pt")

    @torch.inference_mode()
    def predict(self, size: int = Input(default=256, choices=SIZES), image: Path = Input()) -> Iterator[str]:
        """Make things."""
        for i in range(size):
            yield str(self.model(i))
'''


def _stub(source: str) -> str | None:
    return make_stub(source, RUNNERS)


def test_the_stub_keeps_signatures_and_drops_the_rest() -> None:
    stub = _stub(TORCH_MODEL)
    assert stub is not None
    assert "torch" not in stub and "import os" not in stub and "self.model" not in stub
    assert "SIZES = [256, 512]" in stub and "choices=SIZES" in stub and "Make things." in stub
    tree = ast.parse(stub)
    predictor = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    predict = next(n for n in predictor.body if isinstance(n, ast.FunctionDef) and n.name == "predict")
    assert predict.decorator_list == []  # inference_mode keeps the signature: dropped
    assert any(isinstance(n, ast.Yield) for n in ast.walk(predict))  # still a generator


@pytest.mark.parametrize("source,why", [
    ("import torch\nfrom cog import BasePredictor, Input\nclass Predictor(BasePredictor):\n"
     "    def predict(self, x: str = Input(default=torch.__version__)) -> str: ...\n", "a dropped import in a default"),
    ("from cog import BasePredictor, Path\nPath = str\nclass Predictor(BasePredictor):\n"
     "    def predict(self, x: Path) -> str: ...\n", "a kept name rebound by a dropped statement"),
    ("from cog import BasePredictor, Input\ndef default():\n    return 3\nclass Predictor(BasePredictor):\n"
     "    def predict(self, x: int = Input(default=default())) -> int: ...\n", "a function called for a default"),
    ("import functools\nfrom cog import BasePredictor\ndef wrap(f):\n    return f\nclass Predictor(BasePredictor):\n"
     "    @wrap\n    def predict(self, x: int) -> int: ...\n", "an unknown decorator on predict"),
    ("from cog import BasePredictor\nimport torch\nclass Predictor(BasePredictor):\n"
     "    device = torch.device('cuda')\n    def predict(self, x: int) -> int: ...\n", "a computed class attribute"),
    ("from cog import BasePredictor\nfrom .helpers import Output\nclass Predictor(BasePredictor):\n"
     "    def predict(self, x: int) -> Output: ...\n", "a relative import used in an annotation"),
    ("def (:\n", "a syntax error"),
])
def test_what_the_stub_cannot_decide(source: str, why: str) -> None:
    assert _stub(source) is None, why


def test_async_and_sync_stay_what_they_are() -> None:
    stub = _stub("from cog import BasePredictor\nclass Predictor(BasePredictor):\n"
                 "    async def predict(self, x: int) -> int:\n        return x\n")
    assert stub is not None and "yield" not in stub and "async def predict" in stub


def test_old_pythons_and_upstream_cog_are_imported(tmp_path: Path) -> None:
    (tmp_path / "predict.py").write_text("from cog import BasePredictor\nclass Predictor(BasePredictor):\n"
                                         "    def predict(self, x: int) -> int: ...\n")
    refs = {"predict": "predict.py:Predictor"}
    assert runner_stubs(tmp_path, refs, python_version="3.11", locks_upstream_cog=False) is not None
    assert runner_stubs(tmp_path, refs, python_version="3.9", locks_upstream_cog=False) is None
    assert runner_stubs(tmp_path, refs, python_version="3.12", locks_upstream_cog=True) is None
    assert runner_stubs(tmp_path, {"predict": "../predict.py:Predictor"}, python_version="3.12",
                        locks_upstream_cog=False) is None


def _corpus() -> list[Path]:
    roots = [REPO / "tests" / "models", REPO / "tests" / "runtime" / "models", REPO / "examples"]
    return sorted(d for root in roots for d in root.iterdir() if (d / "predict.py").is_file())


def _refs_and_python(model: Path) -> tuple[dict[str, str], str]:
    from cognix.config import load_config

    yaml_path = model / "cog.yaml"
    if not yaml_path.is_file():
        return {"predict": "predict.py:Predictor"}, "3.13"
    data = yaml.safe_load(yaml_path.read_text()) or {}
    refs = {k: data[k] for k in ("predict", "train") if data.get(k)}
    if data.get("run") and "predict" not in refs:
        refs["predict"] = data["run"]
    return refs, load_config(model).build.python_version


def _imported(model: Path, refs: dict[str, str]) -> bytes | None:
    args = [sys.executable, "-m", "cognix.runtime.schema"]
    for kind, ref in refs.items():
        args += [f"--{kind}", ref]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COG_")} | {"PYTHONPATH": str(REPO)}
    proc = subprocess.run(args, cwd=model, env=env, capture_output=True, timeout=120)
    return proc.stdout if proc.returncode == 0 else None  # the model's packages aren't installed here


@pytest.mark.slow
def test_static_and_imported_schemas_agree_on_the_corpus() -> None:
    decided = compared = 0
    for model in _corpus():
        refs, python = _refs_and_python(model)
        static = static_schema(model, refs, python_version=python, locks_upstream_cog=False)
        if static is None:
            continue
        decided += 1
        imported = _imported(model, refs)
        if imported is None:
            continue
        compared += 1
        assert json.loads(static) == json.loads(imported), model.name
    # every model here but the Python 3.8/3.9 ones and one that names no runner class is decided statically
    assert decided >= 40 and compared >= 30, (decided, compared)


def test_an_unknown_schema_mode_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cognix.engines.native.steps import generate_schema
    from cognix.errors import StoreError

    monkeypatch.setenv("COGNIX_SCHEMA", "statc")
    with pytest.raises(StoreError, match="COGNIX_SCHEMA='statc' is not a schema mode") as err:
        generate_schema([], tmp_path, [], [], "key", python="/usr/bin/python3", python_version="3.12",
                        locks_upstream_cog=False)
    assert "static (the default), import or check" in (err.value.fix or "")
