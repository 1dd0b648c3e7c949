"""OpenAPI document in the shape of Cog's current schema generator, built from loaded runners.

Key order follows the generator's JSON: its plain maps come out with sorted keys, while paths, components and
properties keep insertion order. `python -m cognix.runtime.schema` prints the document for the model in the cwd.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from cognix.runtime.predictor import Runner, load_runner
from cognix.runtime.specs import InputSpec, RunnerError, TypeSpec
from cognix.runtime.typetable import leaf_schema

# info.version: the current generator writes the cog CLI's version (legacy wrote "0.1.0"); we match cog 0.23.1
SCHEMA_VERSION = "0.23.1"
_REF = "#/components/schemas/"


class _Ordered(dict):
    """A map whose insertion order is part of the output (paths, components, properties)."""


def title_case(name: str) -> str:
    """'api_token' -> 'Api Token' (the generator's TitleCase)."""
    return " ".join(word[:1].upper() + word[1:] for word in name.split("_") if word != "") if name else name


def _number(value: Any) -> Any:
    # the generator holds ge/le as float64, which JSON-encodes integral values without a fraction
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def input_type_schema(spec: TypeSpec) -> dict[str, Any]:
    """JSON schema of an input type (without nullable; the caller adds it)."""
    if spec.kind == "union":
        members = []
        for member in spec.members:
            schema = input_type_schema(member)
            if spec.nullable:
                schema["nullable"] = True
            members.append(schema)
        return {"anyOf": members}
    item = leaf_schema(spec.kind)
    if spec.repeated:
        return {"type": "array", "items": item}
    return item


def output_type_schema(spec: TypeSpec, *, top_level: bool = False) -> dict[str, Any]:
    """JSON schema of an output type (the generator's SchemaType.jsonSchema)."""
    if spec.kind == "model":
        properties = _Ordered()
        required = []
        for name, field_type, has_default in spec.fields:
            prop = output_type_schema(field_type)
            prop["title"] = title_case(name)
            if not field_type.nullable and not has_default:
                required.append(name)
            properties[name] = prop
        result: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            result["required"] = required
    elif spec.kind == "object" and spec.values is not None:
        result = {"type": "object", "additionalProperties": output_type_schema(spec.values)}
    elif spec.kind == "array" and spec.items is not None:  # nested: List[List[float]], List[Optional[str]]
        result = {"type": "array", "items": output_type_schema(spec.items)}
    elif spec.kind == "union":  # inside a model field or a dict (a top-level union output is refused)
        result = {"anyOf": [output_type_schema(member) for member in spec.members]}
    else:
        result = leaf_schema(spec.kind)
    if spec.repeated:
        result = {"type": "array", "items": result}
    if top_level:
        result["title"] = "Output"
    if spec.nullable:
        result["nullable"] = True
    return result


def _input_component(inputs: list[InputSpec], title: str) -> tuple[dict[str, Any], list[tuple[str, dict]]]:
    properties = _Ordered()
    required: list[str] = []
    enums: list[tuple[str, dict]] = []
    for spec in inputs:
        prop: dict[str, Any] = {"x-order": spec.order}
        f = spec.field
        if f.choices:
            enum_type = spec.type.kind.rule.choices_schema
            enums.append((spec.name, {"title": spec.name, "description": "An enumeration.",
                                      "enum": list(f.choices), "type": enum_type}))
            prop["allOf"] = [{"$ref": _REF + spec.name}]
        else:
            prop["title"] = title_case(spec.name)
            prop.update(input_type_schema(spec.type))
        if spec.required:
            required.append(spec.name)
        if spec.has_default:
            prop["default"] = _json_default(spec.default)
        if spec.nullable:
            prop["nullable"] = True
        if f.description is not None:
            prop["description"] = f.description
        if f.ge is not None:
            prop["minimum"] = _number(f.ge)
        if f.le is not None:
            prop["maximum"] = _number(f.le)
        if f.min_length is not None:
            prop["minLength"] = f.min_length
        if f.max_length is not None:
            prop["maxLength"] = f.max_length
        if f.regex is not None:
            prop["pattern"] = f.regex
        if f.deprecated:
            prop["deprecated"] = True
        if f.accept is not None:
            prop["x-cog-accept"] = f.accept
        properties[spec.name] = prop
    component: dict[str, Any] = {"title": title, "type": "object", "properties": properties}
    if required:
        component["required"] = required
    return component, enums


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return [_json_default(v) for v in value]
    if isinstance(value, list):
        return [_json_default(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_default(v) for k, v in value.items()}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    secret = getattr(value, "get_secret_value", None)
    if callable(secret):
        return secret()
    return str(value)


def output_schema(runner: Runner) -> dict[str, Any]:
    """The Output component for a runner."""
    out = runner.info.output
    if out.iterator:
        schema: dict[str, Any] = {"type": "array", "items": output_type_schema(out.type),
                                  "x-cog-array-type": "iterator"}
        if out.concatenate:
            schema["x-cog-array-display"] = "concatenate"
        schema["title"] = "Output"
        return schema
    return output_type_schema(out.type, top_level=True)


def _response_ok(ref: str | None) -> dict[str, Any]:
    schema = {"$ref": _REF + ref} if ref else {}
    return {"description": "Successful Response", "content": {"application/json": {"schema": schema}}}


_VALIDATION_RESPONSE = {"description": "Validation Error",
                        "content": {"application/json": {"schema": {"$ref": _REF + "HTTPValidationError"}}}}


def _mode_document(runner: Runner, *, train: bool) -> dict[str, Any]:
    if train:
        endpoint, request, response, cancel = "/trainings", "TrainingRequest", "TrainingResponse", \
            "/trainings/{training_id}/cancel"
        summary, description, op_id = "Train", "Run a single training on the model", "train_trainings_post"
        cancel_op, cancel_param, input_key, output_key = "cancel_trainings__training_id__cancel_post", \
            "training_id", "TrainingInput", "TrainingOutput"
    else:
        endpoint, request, response, cancel = "/predictions", "PredictionRequest", "PredictionResponse", \
            "/predictions/{prediction_id}/cancel"
        summary, description, op_id = "Predict", "Run a single prediction on the model", "predict_predictions_post"
        cancel_op, cancel_param, input_key, output_key = "cancel_predictions__prediction_id__cancel_post", \
            "prediction_id", "Input", "Output"

    input_component, enums = _input_component(runner.info.inputs, input_key)
    components = _Ordered()
    components[input_key] = input_component
    components[output_key] = output_schema(runner)
    for name, schema in enums:
        components[name] = schema
    components[request] = {"title": request, "type": "object", "properties": {
        "id": {"title": "Id", "type": "string"},
        "input": {"$ref": _REF + input_key},
    }}
    components[response] = {"title": response, "type": "object", "properties": {
        "input": {"$ref": _REF + input_key},
        "output": {"$ref": _REF + output_key},
        "id": {"title": "Id", "type": "string"},
        "version": {"title": "Version", "type": "string"},
        "created_at": {"title": "Created At", "type": "string", "format": "date-time"},
        "started_at": {"title": "Started At", "type": "string", "format": "date-time"},
        "completed_at": {"title": "Completed At", "type": "string", "format": "date-time"},
        "status": {"title": "Status", "type": "string"},
        "error": {"title": "Error", "type": "string"},
        "logs": {"title": "Logs", "type": "string"},
        "metrics": {"title": "Metrics", "type": "object"},
    }}
    components["Status"] = {"title": "Status", "description": "An enumeration.",
                            "enum": ["starting", "processing", "succeeded", "canceled", "failed"], "type": "string"}
    components["HTTPValidationError"] = {"title": "HTTPValidationError", "type": "object", "properties": {
        "detail": {"title": "Detail", "type": "array", "items": {"$ref": _REF + "ValidationError"}},
    }}
    components["ValidationError"] = {"title": "ValidationError", "required": ["loc", "msg", "type"],
                                     "type": "object", "properties": {
        "loc": {"title": "Location", "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"title": "Message", "type": "string"},
        "type": {"title": "Error Type", "type": "string"},
    }}

    post: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "operationId": op_id,
        "requestBody": {"content": {"application/json": {"schema": {"$ref": _REF + request}}}},
        "responses": {"200": _response_ok(response), "422": _VALIDATION_RESPONSE},
    }
    if runner.info.streaming and not train:
        post["x-cog-streaming"] = True
    paths = _Ordered()
    paths["/"] = {"get": {"summary": "Root", "operationId": "root__get", "responses": {"200": _response_ok(None)}}}
    paths["/health-check"] = {"get": {"summary": "Healthcheck", "operationId": "healthcheck_health_check_get",
                                      "responses": {"200": _response_ok(None)}}}
    paths[endpoint] = {"post": post}
    paths[cancel] = {"post": {
        "summary": "Cancel",
        "operationId": cancel_op,
        "parameters": [{"required": True, "schema": {"title": title_case(cancel_param), "type": "string"},
                        "name": cancel_param, "in": "path"}],
        "responses": {"200": _response_ok(None), "422": _VALIDATION_RESPONSE},
    }}
    return {"openapi": "3.0.2", "info": {"title": "Cog", "version": SCHEMA_VERSION}, "paths": paths,
            "components": {"schemas": components}}


def _postprocess(value: Any) -> Any:
    """Drop `title` next to `$ref`, collapse anyOf [T, null] into T + nullable, then order keys like the generator."""
    if isinstance(value, list):
        return [_postprocess(v) for v in value]
    if not isinstance(value, dict):
        return value
    items = {k: _postprocess(v) for k, v in value.items()}
    if "$ref" in items:
        items.pop("title", None)
    any_of = items.get("anyOf")
    if isinstance(any_of, list) and len(any_of) == 2 and all(isinstance(m, dict) for m in any_of):
        nulls = [m for m in any_of if m.get("type") == "null"]
        others = [m for m in any_of if m.get("type") != "null"]
        if len(nulls) == 1 and len(others) == 1:
            del items["anyOf"]
            items.update(others[0])
            items["nullable"] = True
    if isinstance(value, _Ordered):
        return dict(items)
    return {k: items[k] for k in sorted(items)}


def openapi_schema(predict: Runner | None, train: Runner | None) -> dict[str, Any]:
    """Cog's OpenAPI document for the predict runner, the train runner, or both merged (predict is the base)."""
    if predict is None and train is None:
        raise ValueError("openapi_schema needs a predict or a train runner")
    if predict is not None:
        document = _mode_document(predict, train=False)
        if train is not None:
            extra = _mode_document(train, train=True)
            for key, value in extra["paths"].items():
                document["paths"].setdefault(key, value)
            for key, value in extra["components"]["schemas"].items():
                document["components"]["schemas"].setdefault(key, value)
    else:
        assert train is not None
        document = _mode_document(train, train=True)
    return _postprocess(document)


def dumps(schema: dict[str, Any]) -> str:
    """Compact JSON keeping the document's key order (as the generator writes it)."""
    return json.dumps(schema, separators=(",", ":"), ensure_ascii=False)


def load_runners(predict_ref: str | None, train_ref: str | None, cwd: Path) -> tuple[Runner | None, Runner | None]:
    predict = load_runner(predict_ref, mode="predict", cwd=cwd) if predict_ref else None
    train = load_runner(train_ref, mode="train", cwd=cwd) if train_ref else None
    return predict, train


def main(argv: list[str] | None = None) -> int:
    """Print the schema for the model in the cwd (refs from --predict/--train or COG_*_TYPE_STUB)."""
    parser = argparse.ArgumentParser(prog="python -m cognix.runtime.schema", description=main.__doc__)
    parser.add_argument("--predict", default=os.environ.get("COG_PREDICT_TYPE_STUB"))
    parser.add_argument("--train", default=os.environ.get("COG_TRAIN_TYPE_STUB"))
    parser.add_argument("--cwd", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    if not args.predict and not args.train:
        print("error: no runner: set COG_PREDICT_TYPE_STUB / COG_TRAIN_TYPE_STUB or pass --predict/--train",
              file=sys.stderr)
        return 1
    cwd = args.cwd.resolve()
    os.chdir(cwd)
    # the model's import-time prints must not corrupt the JSON on stdout
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        predict, train = load_runners(args.predict, args.train, cwd)
        document = openapi_schema(predict, train)
    except RunnerError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return 1
    except Exception as err:  # a model whose types break introspection: report it, no traceback
        print(f"error: cannot build the schema: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    finally:
        sys.stdout = real_stdout
    real_stdout.write(dumps(document) + "\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
