"""Outputs pydantic-era Cog accepted, described and encoded as Cog does, on every Python 3.8-3.14.

Expected shapes: the current generator's (replicate/cog pkg/schema: TestListOfListOutput, TestIteratorOfListOutput,
TestDictOfListOutput; schema_type.go's jsonSchema), which are also what cog <= 0.16's pydantic schemas gave for these
types; JSON bodies: cog 0.9's python/tests/server/test_http_output.py (test_complex_output,
test_iterator_of_list_of_complex_output). Models use 3.8 spellings (typing's aliases).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cognix.runtime.encoding import encode_output
from cognix.runtime.predictor import Runner, RunnerError, load_runner
from cognix.runtime.schema import openapi_schema

NESTED = Path(__file__).parent / "models" / "nested"


def output_schema(ref: str, cwd: Path = NESTED) -> dict:
    return openapi_schema(load_runner(ref, cwd=cwd), None)["components"]["schemas"]["Output"]


def load(tmp_path: Path, source: str, ref: str = "predict.py:Predictor") -> Runner:
    (tmp_path / "predict.py").write_text(textwrap.dedent(source))
    return load_runner(ref, cwd=tmp_path)


def test_list_of_lists() -> None:
    assert output_schema("predict.py:Embeddings") == {
        "title": "Output", "type": "array", "items": {"type": "array", "items": {"type": "number"}}}
    runner = load_runner("predict.py:Embeddings", cwd=NESTED)
    assert encode_output(runner.call({"texts": ["ab", "c"]})) == [[2.0, 0.5], [1.0, 0.5]]


def test_iterator_of_lists_and_lists_of_optional() -> None:
    assert output_schema("predict.py:Batches") == {
        "title": "Output", "type": "array", "items": {"type": "array", "items": {"type": "integer"}},
        "x-cog-array-type": "iterator"}
    assert output_schema("predict.py:Sparse") == {
        "title": "Output", "type": "array", "items": {"type": "string", "nullable": True}}


def test_model_with_optional_paths_left_out() -> None:
    schema = output_schema("predict.py:Transcribe")
    assert schema == {
        "title": "Output", "type": "object", "required": ["transcription"],
        "properties": {
            "transcription": {"title": "Transcription", "type": "string"},
            "preview": {"title": "Preview", "type": "string", "format": "uri", "nullable": True},
            "txt_file": {"title": "Txt File", "type": "string", "format": "uri", "nullable": True},
            "segments": {"title": "Segments", "type": "array",
                         "items": {"type": "object", "additionalProperties": {"type": "number"}}},
        },
    }
    runner = load_runner("predict.py:Transcribe", cwd=NESTED)
    assert encode_output(runner.call({})) == {"transcription": "hello", "preview": None, "txt_file": None,
                                              "segments": []}
    assert encode_output(runner.call({"with_file": True}))["txt_file"] == "data:text/plain;base64,aGk="


def test_deeper_nesting_and_dict_of_lists(tmp_path: Path) -> None:
    runner = load(tmp_path, """
        from typing import Dict, List
        from cog import BasePredictor

        class Predictor(BasePredictor):
            def predict(self) -> Dict[str, List[List[int]]]:
                return {"a": [[1], [2, 3]]}
    """)
    schema = openapi_schema(runner, None)["components"]["schemas"]["Output"]
    assert schema["additionalProperties"] == {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}
    assert encode_output(runner.call({})) == {"a": [[1], [2, 3]]}


def test_nested_inputs_are_still_refused(tmp_path: Path) -> None:
    with pytest.raises(RunnerError, match="nested generics"):
        load(tmp_path, """
            from typing import List
            from cog import BasePredictor

            class Predictor(BasePredictor):
                def predict(self, rows: List[List[float]]) -> str:
                    return ""
        """)


def test_pydantic_fixtures_of_cog_0_9(tmp_path: Path) -> None:
    pytest.importorskip("pydantic")
    runner = load(tmp_path, """
        import io
        from typing import Iterator, List, Optional
        from cog import BasePredictor, File, Path
        from pydantic import BaseModel

        class Output(BaseModel):
            text: str
            file: File

        class Predictor(BasePredictor):  # output_complex.py
            def predict(self) -> Output:
                return Output(text="hello", file=io.StringIO("hello"))

        class Item(BaseModel):
            text: str

        class Many(BasePredictor):  # output_iterator_complex.py
            def predict(self) -> Iterator[List[Item]]:
                yield [Item(text="hello")]

        class ModelOutput(BaseModel):  # complex_output_project
            success: bool
            error: Optional[str]
            segmentedImage: Optional[Path]

        class Complex(BasePredictor):
            def predict(self, msg: str) -> ModelOutput:
                return ModelOutput(success=False, error=msg, segmentedImage=None)
    """)
    assert encode_output(runner.call({})) == {"text": "hello", "file": "data:application/octet-stream;base64,aGVsbG8="}
    many = load_runner("predict.py:Many", cwd=tmp_path)
    assert [encode_output(chunk) for chunk in many.call({})] == [[{"text": "hello"}]]
    items = openapi_schema(many, None)["components"]["schemas"]["Output"]["items"]
    assert items["type"] == "array" and items["items"]["properties"] == {"text": {"title": "Text", "type": "string"}}
    complex_ = load_runner("predict.py:Complex", cwd=tmp_path)
    assert encode_output(complex_.call({"msg": "bad"})) == {"success": False, "error": "bad", "segmentedImage": None}
    props = openapi_schema(complex_, None)["components"]["schemas"]["Output"]["properties"]
    assert props["segmentedImage"] == {"title": "SegmentedImage", "type": "string", "format": "uri", "nullable": True}


@pytest.mark.parametrize(("ref", "body", "output"), [
    ("predict.py:Embeddings", {"texts": ["abc"]}, [[3.0, 0.5]]),
    ("predict.py:Transcribe", {}, {"transcription": "hello", "preview": None, "txt_file": None, "segments": []}),
    ("predict.py:Batches", {"n": 2}, [[0, 1], [1, 2]]),
])
def test_over_http(start_server, ref: str, body: dict, output: object) -> None:
    server = start_server("nested", env={"COG_PREDICT_TYPE_STUB": ref})
    response = server.client.post("/predictions", json={"input": body})
    assert response.status_code == 200 and response.json()["status"] == "succeeded", response.text
    assert response.json()["output"] == output
