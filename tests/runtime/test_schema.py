"""OpenAPI schema in the current generator's shape, the `python -m` entry and `cognix schema`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cognix.runtime.predictor import Runner, load_runner
from cognix.runtime.schema import dumps, openapi_schema, title_case

REFERENCE = Path("/work/shared/reference")
REPO = Path(__file__).resolve().parents[2]
RUNTIME_PYTHON = os.environ.get("COGNIX_RUNTIME_PYTHON") or sys.executable  # as in conftest.py


def load(tmp_path: Path, source: str, ref: str = "predict.py:Predictor", mode: str = "predict") -> Runner:
    (tmp_path / ref.split(":")[0]).write_text(textwrap.dedent(source))
    return load_runner(ref, mode=mode, cwd=tmp_path)


EXAMPLE = '''
from typing import List, Optional

from cog import BaseModel, BasePredictor, Input, Path, Secret


class Output(BaseModel):
    caption: str
    score: float
    mask: Optional[Path]


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.ready = True

    def predict(
        self,
        image: Path = Input(description="Image to process"),
        prompt: str = Input(description="Text prompt", default="a photo"),
        style: str = Input(
            description="Rendering style",
            choices=["natural", "vivid", "mono"],
            default="natural",
        ),
        steps: int = Input(description="Number of steps", ge=1, le=100, default=25),
        guidance: float = Input(description="Guidance scale", default=7.5),
        seed: int = Input(description="Random seed; leave blank to randomize", default=None),
        upscale: bool = Input(description="Upscale the result", default=False),
        api_token: Secret = Input(description="Token for an external service"),
        tags: List[str] = Input(description="Free-form tags", default=[]),
        negative_prompt: str = Input(description="Things to avoid (optional)", default=None),
        name: str = Input(description="Short name", min_length=1, max_length=20, regex="^[a-z]+$", default="run"),
    ) -> Output:
        return Output(caption=prompt, score=guidance, mask=None)
'''


@pytest.fixture
def example(tmp_path: Path) -> dict:
    return openapi_schema(load(tmp_path, EXAMPLE), None)


def test_title_case() -> None:
    assert title_case("api_token") == "Api Token"
    assert title_case("x") == "X"


def test_example_matches_legacy_where_the_rules_agree(example: dict) -> None:
    legacy = json.loads((REFERENCE / "cog-0.9-openapi-example.json").read_text())
    ours, theirs = example["components"]["schemas"], legacy["components"]["schemas"]
    assert list(ours["Input"]["properties"]) == list(theirs["Input"]["properties"])
    for name, prop in theirs["Input"]["properties"].items():
        mine = ours["Input"]["properties"][name]
        expected = dict(prop)
        if "minimum" in expected:  # legacy wrote floats; the generator writes 1/100
            expected["minimum"], expected["maximum"] = int(expected["minimum"]), int(expected["maximum"])
        if name == "api_token":
            expected["writeOnly"] = True  # current generator adds writeOnly
        assert mine == expected, name
    assert ours["style"] == theirs["style"]
    assert ours["Status"] == theirs["Status"]
    assert ours["ValidationError"] == theirs["ValidationError"]
    assert ours["HTTPValidationError"] == theirs["HTTPValidationError"]


def test_example_current_generator_rules(example: dict) -> None:
    schemas = example["components"]["schemas"]
    assert list(schemas) == ["Input", "Output", "style", "PredictionRequest", "PredictionResponse", "Status",
                             "HTTPValidationError", "ValidationError"]
    # non-Optional `= Input(default=None)` is required in the current generator (legacy: optional)
    assert schemas["Input"]["required"] == ["image", "seed", "api_token", "negative_prompt"]
    assert "title" not in schemas["Input"]["properties"]["style"]
    assert schemas["Output"] == {
        "properties": {
            "caption": {"title": "Caption", "type": "string"},
            "score": {"title": "Score", "type": "number"},
            "mask": {"format": "uri", "nullable": True, "title": "Mask", "type": "string"},
        },
        "required": ["caption", "score"],
        "title": "Output",
        "type": "object",
    }
    assert schemas["PredictionRequest"]["properties"] == {
        "id": {"title": "Id", "type": "string"}, "input": {"$ref": "#/components/schemas/Input"}}
    assert schemas["PredictionResponse"]["properties"]["status"] == {"title": "Status", "type": "string"}
    assert example["openapi"] == "3.0.2" and example["info"]["title"] == "Cog"
    assert list(example["paths"]) == ["/", "/health-check", "/predictions", "/predictions/{prediction_id}/cancel"]
    post = example["paths"]["/predictions"]["post"]
    assert post["operationId"] == "predict_predictions_post" and "x-cog-streaming" not in post
    cancel = example["paths"]["/predictions/{prediction_id}/cancel"]["post"]
    assert cancel["parameters"][0]["schema"] == {"title": "Prediction Id", "type": "string"}
    assert "WebhookEvent" not in schemas and "/shutdown" not in example["paths"]


def test_schema_is_deterministic(tmp_path: Path) -> None:
    runner = load(tmp_path, EXAMPLE)
    assert dumps(openapi_schema(runner, None)) == dumps(openapi_schema(runner, None))


def test_optional_nullable_union_and_secret_rules(tmp_path: Path) -> None:
    runner = load(tmp_path, """
        from typing import Annotated, Optional, Union
        from cog import BasePredictor, Input, Opaque, Secret, File

        class Predictor(BasePredictor):
            def predict(
                self,
                a: Optional[str],
                b: Optional[int] = Input(default=None, description="b"),
                c: str | None = None,
                d: Union[str, int] = Input(description="d"),
                e: Secret = Input(default=None),
                f: Optional[list[str]] = None,
                g: Annotated[dict, Opaque] = Input(default={}),
                h: int = Input(default=3, choices=[3, 5]),
                i: File = Input(accept="image/*", deprecated=True),
                j: list[Secret] = Input(default=[]),
            ) -> dict[str, int]:
                return {}
    """)
    schema = openapi_schema(runner, None)["components"]["schemas"]
    props, required = schema["Input"]["properties"], schema["Input"]["required"]
    assert required == ["d", "i"]
    assert props["a"] == {"nullable": True, "title": "A", "type": "string", "x-order": 0}
    assert props["b"] == {"default": None, "description": "b", "nullable": True, "title": "B", "type": "integer",
                          "x-order": 1}
    assert props["c"]["default"] is None and props["c"]["nullable"] is True
    assert props["d"]["anyOf"] == [{"type": "string"}, {"type": "integer"}]
    assert props["e"] == {"default": None, "format": "password", "nullable": True, "title": "E", "type": "string",
                          "writeOnly": True, "x-cog-secret": True, "x-order": 4}
    assert props["f"] == {"default": None, "items": {"type": "string"}, "nullable": True, "title": "F",
                          "type": "array", "x-order": 5}
    assert props["g"] == {"default": {}, "title": "G", "type": "object", "x-order": 6}
    assert props["h"] == {"allOf": [{"$ref": "#/components/schemas/h"}], "default": 3, "x-order": 7}
    assert schema["h"] == {"description": "An enumeration.", "enum": [3, 5], "title": "h", "type": "integer"}
    assert props["i"] == {"deprecated": True, "format": "uri", "title": "I", "type": "string", "x-cog-accept": "image/*",
                          "x-order": 8}
    assert props["j"]["items"]["x-cog-secret"] is True
    assert schema["Output"] == {"additionalProperties": {"type": "integer"}, "title": "Output", "type": "object"}


@pytest.mark.parametrize("annotation, expected", [
    ("Iterator[str]", {"items": {"type": "string"}, "title": "Output", "type": "array",
                       "x-cog-array-type": "iterator"}),
    ("ConcatenateIterator[str]", {"items": {"type": "string"}, "title": "Output", "type": "array",
                                  "x-cog-array-display": "concatenate", "x-cog-array-type": "iterator"}),
    ("list[Path]", {"items": {"format": "uri", "type": "string"}, "title": "Output", "type": "array"}),
    ("Path", {"format": "uri", "title": "Output", "type": "string"}),
    ("Any", {"title": "Output", "type": "object"}),
])
def test_output_shapes(tmp_path: Path, annotation: str, expected: dict) -> None:
    runner = load(tmp_path, f"""
        from typing import Any, Iterator
        from cog import BasePredictor, ConcatenateIterator, Path

        class Predictor(BasePredictor):
            def predict(self) -> {annotation}:
                raise NotImplementedError
    """)
    assert openapi_schema(runner, None)["components"]["schemas"]["Output"] == expected


def test_streaming_flag(tmp_path: Path) -> None:
    runner = load(tmp_path, """
        from cog import BaseRunner, ConcatenateIterator, streaming

        class Predictor(BaseRunner):
            @streaming()
            def run(self) -> ConcatenateIterator[str]:
                yield "x"
    """)
    assert openapi_schema(runner, None)["paths"]["/predictions"]["post"]["x-cog-streaming"] is True


def test_training_merge(tmp_path: Path) -> None:
    predict = load(tmp_path, EXAMPLE)
    train = load(tmp_path, """
        from cog import Input, Path
        def train(steps: int = Input(default=10, le=100)) -> Path:
            return Path("w")
    """, ref="train.py:train", mode="train")
    merged = openapi_schema(predict, train)
    schemas = merged["components"]["schemas"]
    # the predict document is the base; train-only components are appended
    assert list(schemas)[-4:] == ["TrainingInput", "TrainingOutput", "TrainingRequest", "TrainingResponse"]
    assert schemas["TrainingOutput"]["title"] == "Output"
    assert schemas["TrainingInput"]["properties"]["steps"]["maximum"] == 100
    assert "/trainings" in merged["paths"] and "/trainings/{training_id}/cancel" in merged["paths"]
    assert merged["paths"]["/trainings"]["post"]["operationId"] == "train_trainings_post"
    train_only = openapi_schema(None, train)
    assert "Input" not in train_only["components"]["schemas"] and "/predictions" not in train_only["paths"]


def test_module_entry_prints_compact_json(tmp_path: Path) -> None:
    (tmp_path / "predict.py").write_text(EXAMPLE.replace("def setup(self) -> None:", "def setup(self) -> None:\n"
                                                         "        print('noise')") + "\nprint('import noise')\n")
    env = {"COG_PREDICT_TYPE_STUB": "predict.py:Predictor", "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([RUNTIME_PYTHON, "-m", "cognix.runtime.schema"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "import noise" in result.stderr
    document = json.loads(result.stdout)
    assert result.stdout.strip() == dumps(document)
    assert document["components"]["schemas"]["Input"]["required"][0] == "image"


def test_cognix_schema_command(tmp_path: Path) -> None:
    from cognix.cli.main import cli

    shutil.copytree(REPO / "examples" / "hello", tmp_path / "hello")
    result = CliRunner().invoke(cli, ["schema", str(tmp_path / "hello")])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["components"]["schemas"]["Input"]["properties"]["repeat"]["maximum"] == 10

    (tmp_path / "hello" / "predict.py").write_text("import not_a_real_module_xyz\n")
    result = CliRunner().invoke(cli, ["schema", str(tmp_path / "hello")])
    assert result.exit_code == 1
    assert "No module named 'not_a_real_module_xyz'" in result.output
    assert "Traceback" not in result.output


UPSTREAM_STYLE = '''
from dataclasses import dataclass
from typing import Any, Optional
from cog import BaseRunner, ConcatenateIterator, Secret


@dataclass(frozen=True)
class FieldInfo:  # upstream cog 0.23's shape: an omitted default is stored as None
    default: Any = None
    description: Optional[str] = None
    ge: Optional[float] = None
    le: Optional[float] = None
    min_length: Optional[int] = None
    max_length: Optional[int] = None
    regex: Optional[str] = None
    choices: Optional[list] = None
    deprecated: Optional[bool] = None


def Input(default=None, **kwargs):
    return FieldInfo(default=default, **kwargs)


def streaming(fn=None):  # a no-op upstream: only the source shows it
    return fn if fn is not None else (lambda f: f)


class Predictor(BaseRunner):
    @streaming()
    def run(self, token: Secret = Input(description="required"), key: Secret = Input(default=None),
            note: Optional[str] = Input(description="no default"), n: int = Input(default=2, le=5)
            ) -> ConcatenateIterator[str]:
        yield "x"
'''


def test_upstream_style_field_info_and_static_streaming(tmp_path: Path) -> None:
    document = openapi_schema(load(tmp_path, UPSTREAM_STYLE), None)
    component = document["components"]["schemas"]["Input"]
    assert component["required"] == ["token"]
    assert component["properties"]["key"]["default"] is None and component["properties"]["key"]["nullable"]
    assert "default" not in component["properties"]["note"] and component["properties"]["note"]["nullable"]
    assert component["properties"]["n"]["maximum"] == 5 and component["properties"]["n"]["default"] == 2
    assert document["paths"]["/predictions"]["post"]["x-cog-streaming"] is True


def test_nested_and_pydantic_model_outputs(tmp_path: Path) -> None:
    pytest.importorskip("pydantic")
    source = '''
        from typing import Optional
        import pydantic
        from cog import BasePredictor, BaseModel, Path

        class Inner(BaseModel):
            url: Path
            n: int = 1

        class Outer(BaseModel):
            inner: list[Inner]
            meta: dict[str, float]

        class Out(pydantic.BaseModel):
            a: int
            b: Optional[str] = None

        class Predictor(BasePredictor):
            def predict(self) -> list[Outer]:
                return []

        class Pyd(BasePredictor):
            def predict(self) -> Out:
                return Out(a=1)
    '''
    output = openapi_schema(load(tmp_path, source), None)["components"]["schemas"]["Output"]
    inner = output["items"]["properties"]["inner"]
    assert inner["title"] == "Inner" and inner["items"]["required"] == ["url"]
    assert output["items"]["properties"]["meta"]["additionalProperties"] == {"type": "number"}
    pyd = openapi_schema(load_runner("predict.py:Pyd", cwd=tmp_path), None)["components"]["schemas"]["Output"]
    assert pyd["required"] == ["a"] and pyd["properties"]["b"]["nullable"] is True


def test_trainer_class_with_train_method(tmp_path: Path) -> None:
    runner = load(tmp_path, """
        from cog import Input

        class Trainer:
            def train(self, steps: int = Input(default=5)) -> str:
                return str(steps)
    """, ref="train.py:Trainer", mode="train")
    assert runner.info.method == "train" and runner.call({}) == "5"
    assert openapi_schema(None, runner)["info"] == {"title": "Cog", "version": "0.23.1"}


def test_opaque_inputs(tmp_path: Path) -> None:
    runner = load(tmp_path, """
        from typing import Annotated, Optional
        from cog import BasePredictor, Opaque

        class Predictor(BasePredictor):
            def predict(self, a: Annotated[list, Opaque], b: Annotated[list[dict], Opaque],
                        c: Annotated[Optional[dict], Opaque] = None) -> str:
                return ""
    """)
    props = openapi_schema(runner, None)["components"]["schemas"]["Input"]["properties"]
    assert props["a"]["items"] == props["b"]["items"] == {"type": "object"} and props["a"]["type"] == "array"
    assert props["c"] == {"default": None, "nullable": True, "title": "C", "type": "object", "x-order": 2}
