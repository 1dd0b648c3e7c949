"""Input validation: Cog's 422 detail entries with coglet's messages, defaults, null and unknown fields."""

from __future__ import annotations

import json
import textwrap

import pytest

from cognix.runtime.predictor import load_runner
from cognix.runtime.schema import openapi_schema
from cognix.runtime.validation import validate_input

MODEL = """
from typing import List, Optional
from cog import BasePredictor, Input, Path, Secret

class Predictor(BasePredictor):
    def predict(
        self,
        text: str = Input(min_length=2, max_length=5, regex="^[a-z]+$"),
        n: int = Input(default=1, ge=0, le=10),
        color: str = Input(default="red", choices=["red", "green"]),
        tags: List[str] = Input(),
        ratio: float = 0.5,
        flag: bool = False,
        note: Optional[str] = None,
        maybe: Optional[int] = Input(),
        image: Path = Input(default=None),
        token: Secret = Input(default=None),
        scores: List[int] = Input(default=[1]),
    ) -> str:
        return text
"""


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("validation")
    (tmp / "predict.py").write_text(textwrap.dedent(MODEL))
    return openapi_schema(load_runner("predict.py:Predictor", cwd=tmp), None)


def error(name: str, msg: str, kind: str = "value_error") -> dict:
    return {"loc": ["body", "input", name], "msg": msg, "type": kind}


GOOD = {"text": "abc", "tags": ["x"], "image": "data:text/plain;base64,aGk="}


def check(schema: dict, **changes: object) -> list[dict]:
    payload = {**GOOD, **changes}
    return validate_input(schema, payload)[1]


def test_valid_input_gets_defaults(schema: dict) -> None:
    cleaned, errors = validate_input(schema, dict(GOOD))
    assert errors == []
    assert cleaned == {"text": "abc", "n": 1, "color": "red", "tags": ["x"], "ratio": 0.5, "flag": False,
                       "note": None, "maybe": None, "image": "data:text/plain;base64,aGk=", "token": None,
                       "scores": [1]}
    cleaned["scores"].append(2)
    assert validate_input(schema, dict(GOOD))[0]["scores"] == [1]  # defaults are copies


def test_missing_required(schema: dict) -> None:
    _, errors = validate_input(schema, {"image": "https://example.invalid/x.png"})
    assert errors == [error("text", "Field required", "value_error.missing"),
                      error("tags", "Field required", "value_error.missing")]


@pytest.mark.parametrize("change, expected", [
    ({"n": "5"}, error("n", '"5" is not of type "integer"')),
    ({"n": 50}, error("n", "50 is greater than the maximum of 10")),
    ({"n": -1}, error("n", "-1 is less than the minimum of 0")),
    ({"n": 1.5}, error("n", '1.5 is not of type "integer"')),
    ({"n": True}, error("n", 'true is not of type "integer"')),
    ({"color": "blue"}, error("color", '"blue" is not one of ["red","green"]')),
    ({"text": "ABC"}, error("text", '"ABC" does not match "^[a-z]+$"')),
    ({"text": "a"}, error("text", '"a" is shorter than 2 characters')),
    ({"text": "abcdef"}, error("text", '"abcdef" is longer than 5 characters')),
    ({"ratio": "x"}, error("ratio", '"x" is not of type "number"')),
    ({"flag": 1}, error("flag", '1 is not of type "boolean"')),
    ({"tags": "x"}, error("tags", '"x" is not of type "array"')),
    ({"tags": ["a", 2]}, error("tags/1", '2 is not of type "string"')),
    ({"text": None}, error("text", 'null is not of type "string"')),
])
def test_error_messages(schema: dict, change: dict, expected: dict) -> None:
    assert check(schema, **change) == [expected]


def test_explicit_null_accepted_for_optional(schema: dict) -> None:
    cleaned, errors = validate_input(schema, {**GOOD, "note": None, "maybe": None, "token": None})
    assert errors == [] and cleaned["note"] is None and cleaned["maybe"] is None


def test_integral_float_reaches_model_as_int(schema: dict) -> None:
    cleaned, errors = validate_input(schema, {**GOOD, "n": 2.0, "scores": [3.0]})
    assert errors == [] and cleaned["n"] == 2 and isinstance(cleaned["n"], int) and cleaned["scores"] == [3]


def test_unknown_field_rejected(schema: dict) -> None:
    assert check(schema, bogus=1) == [error("bogus", "extra fields not permitted", "value_error.extra")]


@pytest.mark.parametrize("payload, shown", [([1, 2], "[1,2]"), ("x", '"x"'), (3, "3")])
def test_non_object_input(schema: dict, payload: object, shown: str) -> None:
    cleaned, errors = validate_input(schema, payload)
    assert errors == [{"loc": ["body", "input"], "msg": f'{shown} is not of type "object"', "type": "value_error"}]


def test_null_input_means_empty(schema: dict) -> None:
    _, errors = validate_input(schema, None)
    # `image: Path = Input(default=None)` is required, like the current generator makes it
    assert [e["loc"][-1] for e in errors] == ["text", "tags", "image"]


def test_several_errors_in_field_order(schema: dict) -> None:
    errors = check(schema, n=99, text="A", bogus=True)
    assert errors == [
        error("text", '"A" is shorter than 2 characters'),
        error("text", '"A" does not match "^[a-z]+$"'),
        error("n", "99 is greater than the maximum of 10"),
        error("bogus", "extra fields not permitted", "value_error.extra"),
    ]


def test_training_input_and_fallback() -> None:
    schema = {"components": {"schemas": {
        "Input": {"type": "object", "properties": {"a": {"type": "string"}}},
        "TrainingInput": {"type": "object", "properties": {"steps": {"type": "integer", "default": 3}}},
    }}}
    assert validate_input(schema, {}, training=True) == ({"steps": 3}, [])
    # a schema is treated as immutable once used (its compiled form is cached): use a new document
    fallback = {"components": {"schemas": {"Input": schema["components"]["schemas"]["Input"]}}}
    assert validate_input(fallback, {"a": "x"}, training=True) == ({"a": "x"}, [])


def test_any_of_union() -> None:
    schema = {"components": {"schemas": {"Input": {"type": "object", "required": ["u"], "properties": {
        "u": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}}}}}
    assert validate_input(schema, {"u": 3})[1] == []
    assert validate_input(schema, {"u": 1.5})[1] == [error(
        "u", "1.5 is not valid under any of the schemas listed in the 'anyOf' keyword")]


def test_secret_values_are_never_echoed(schema: dict) -> None:
    assert check(schema, token=31337) == [error("token", '"**********" is not of type "string"')]
    assert "31337" not in json.dumps(check(schema, token=31337))


@pytest.mark.parametrize("value", ["/etc/passwd", "x.png", "file:///etc/passwd", "ftp://host/x"])
def test_a_path_input_must_be_a_url(schema: dict, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # upstream opens such a value on the server's own disk
    monkeypatch.delenv("COG_ALLOW_LOCAL_PATHS", raising=False)
    assert check(schema, image=value) == [error("image", f'"{value}" is not a URL (http://, https:// or data:)')]
    monkeypatch.setenv("COG_ALLOW_LOCAL_PATHS", "1")
    assert check(schema, image=value) == []


def test_a_long_bad_value_is_cut_in_the_message(schema: dict) -> None:
    [problem] = check(schema, text="a" * 5_000_000)
    assert len(problem["msg"]) < 400 and problem["msg"].endswith("is longer than 5 characters")
    assert "(5000002 characters)" in problem["msg"]
