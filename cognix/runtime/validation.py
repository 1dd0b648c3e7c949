"""Validate a request's `input` against the schema's Input component, with Cog's 422 `detail` entries.

A hand-written validator for the JSON-schema subset the generator emits (type, enum, minimum/maximum,
minLength/maxLength, pattern, items, anyOf, allOf/$ref, nullable). Messages follow the texts coglet returns.
Deliberate differences from upstream: `nullable` is honoured (explicit null accepted for Optional inputs) and
unknown fields are an error instead of being dropped silently.
"""

from __future__ import annotations

import copy
import json
import os
import re
from typing import Any

_REF_PREFIX = "#/components/schemas/"
_TYPE_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


_SHOWN_CHARS = 200  # a 20 MB bad value must not make a 20 MB reply
_URI_SCHEMES = ("http://", "https://", "data:")
ALLOW_LOCAL_PATHS = "COG_ALLOW_LOCAL_PATHS"  # "1": a Path/File input may name a file on the server, as upstream


def _show(value: Any) -> str:
    """A value as it appears in messages: compact JSON, cut after _SHOWN_CHARS characters."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= _SHOWN_CHARS else f"{text[:_SHOWN_CHARS]}... ({len(text)} characters)"


def _not_a_uri(value: Any, schema: dict[str, Any]) -> bool:
    """A Path/File input (format: uri) that names no URL: upstream opens it as a path on the server's own disk
    (`{"image": "/etc/passwd"}`), which clients must not be able to ask for unless the operator allows it."""
    return (schema.get("format") == "uri" and isinstance(value, str) and not value.startswith(_URI_SCHEMES)
            and os.environ.get(ALLOW_LOCAL_PATHS) != "1")


def _mask_secrets(msg: str, value: Any, prop: dict[str, Any]) -> str:
    """Never echo a Secret input's value (or a list[Secret]'s items) in a 422 message."""
    if prop.get("x-cog-secret"):
        secrets = [value]
    elif isinstance(prop.get("items"), dict) and prop["items"].get("x-cog-secret") and isinstance(value, list):
        secrets = value
    else:
        return msg
    for secret in secrets:
        if secret not in (None, ""):
            msg = msg.replace(_show(secret), '"**********"')
    return msg


def resolve_refs(schema: Any, components: dict[str, Any], _depth: int = 0) -> Any:
    """Inline `$ref`s to components (merging a single-entry `allOf` into its holder)."""
    if _depth > 32:
        return schema
    if isinstance(schema, list):
        return [resolve_refs(s, components, _depth + 1) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
        target = components.get(ref[len(_REF_PREFIX):], {})
        out.update(resolve_refs(target, components, _depth + 1))
    for key, value in schema.items():
        if key == "$ref":
            continue
        if key == "allOf" and isinstance(value, list):
            for member in value:
                resolved = resolve_refs(member, components, _depth + 1)
                if isinstance(resolved, dict):
                    for k, v in resolved.items():
                        out.setdefault(k, v)
            continue
        out[key] = resolve_refs(value, components, _depth + 1)
    return out


_cache: dict[tuple[int, bool], tuple[dict, dict, list, set]] = {}


def _compiled(schema: dict[str, Any], training: bool) -> tuple[list[tuple[str, dict]], set[str]]:
    """(properties in x-order, required names), cached per schema object: a server's schema doesn't change."""
    key = (id(schema), training)
    hit = _cache.get(key)
    if hit is not None and hit[0] is schema:
        return hit[2], hit[3]
    component = input_component(schema, training=training)
    properties = component.get("properties") or {}
    ordered = sorted(properties.items(), key=lambda item: item[1].get("x-order", 1 << 30))
    required = set(component.get("required") or [])
    if len(_cache) > 16:
        _cache.clear()
    _cache[key] = (schema, component, ordered, required)
    return ordered, required


def raw_input_component(schema: dict[str, Any], *, training: bool = False) -> dict[str, Any] | None:
    """The component a request's input is checked against: TrainingInput for a training (Input when the model has
    no train schema), Input for a prediction, or TrainingInput when that is all there is: under `--x-mode train`
    the schema has only the train function's, and POST /predictions runs train(), as upstream."""
    components = (schema.get("components") or {}).get("schemas") or {}
    first, second = ("TrainingInput", "Input") if training else ("Input", "TrainingInput")
    return components.get(first) or components.get(second)


def input_component(schema: dict[str, Any], *, training: bool = False) -> dict[str, Any]:
    """raw_input_component with refs inlined (an empty object schema when there is none)."""
    components = (schema.get("components") or {}).get("schemas") or {}
    component = raw_input_component(schema, training=training) or {"type": "object", "properties": {}}
    return resolve_refs(component, components)


def _errors_for(value: Any, schema: dict[str, Any], path: str) -> list[tuple[str, str]]:
    """(json-pointer path, message) for each problem of `value` against `schema`."""
    if value is None and schema.get("nullable"):
        return []
    if "anyOf" in schema:
        members = schema["anyOf"]
        if any(not _errors_for(value, m, path) for m in members):
            return []
        return [(path, f"{_show(value)} is not valid under any of the schemas listed in the 'anyOf' keyword")]
    expected = schema.get("type")
    if isinstance(expected, str) and expected in _TYPE_CHECKS and not _TYPE_CHECKS[expected](value):
        return [(path, f"{_show(value)} is not of type \"{expected}\"")]
    errors: list[tuple[str, str]] = []
    if _not_a_uri(value, schema):
        errors.append((path, f"{_show(value)} is not a URL (http://, https:// or data:)"))
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        errors.append((path, f"{_show(value)} is not one of {_show(schema['enum'])}"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append((path, f"{_show(value)} is less than the minimum of {_show(schema['minimum'])}"))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append((path, f"{_show(value)} is greater than the maximum of {_show(schema['maximum'])}"))
    if isinstance(value, str):
        length = len(value)
        if "minLength" in schema and length < schema["minLength"]:
            limit = schema["minLength"]
            errors.append((path, f"{_show(value)} is shorter than {limit} character{'s' if limit != 1 else ''}"))
        if "maxLength" in schema and length > schema["maxLength"]:
            limit = schema["maxLength"]
            errors.append((path, f"{_show(value)} is longer than {limit} character{'s' if limit != 1 else ''}"))
        if "pattern" in schema:
            try:
                matched = re.search(schema["pattern"], value) is not None
            except re.error:
                matched = True  # an invalid pattern was the model author's error, not the client's
            if not matched:
                errors.append((path, f"{_show(value)} does not match {_show(schema['pattern'])}"))
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors.extend(_errors_for(item, schema["items"], f"{path}/{index}"))
    return errors


def _coerce(value: Any, schema: dict[str, Any]) -> Any:
    """Integral floats sent for `integer` inputs reach the model as int (upstream passes a float)."""
    if schema.get("type") == "integer" and isinstance(value, float):
        return int(value)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_coerce(v, schema["items"]) for v in value]
    return value


def _same(a: Any, b: Any) -> bool:
    # JSON equality: 1 == 1.0 but True != 1
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def _error(loc_tail: list[str], msg: str, kind: str = "value_error") -> dict[str, Any]:
    return {"loc": ["body", "input", *loc_tail], "msg": msg, "type": kind}


def validate_input(schema: dict, payload: object, *, training: bool = False) -> tuple[dict, list[dict]]:
    """Check `payload` against Input/TrainingInput; returns (input with defaults applied, 422 detail entries).

    `schema` must not be mutated after its first use: its compiled form is cached by identity.
    """
    ordered, required = _compiled(schema, training)
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        return {}, [{"loc": ["body", "input"], "msg": f"{_show(payload)} is not of type \"object\"",
                     "type": "value_error"}]
    properties = dict(ordered)
    cleaned: dict[str, Any] = {}
    errors: list[dict] = []
    for name, prop in ordered:
        if name not in payload:
            if name in required:
                errors.append(_error([name], "Field required", "value_error.missing"))
            elif "default" in prop:
                cleaned[name] = copy.deepcopy(prop["default"])
            elif prop.get("nullable"):
                cleaned[name] = None
            continue
        value = payload[name]
        problems = [(path, _mask_secrets(msg, value, prop)) for path, msg in _errors_for(value, prop, name)]
        for path, msg in problems:
            errors.append(_error([path], msg))
        if not problems:
            cleaned[name] = _coerce(value, prop)
    for name in payload:
        if name not in properties:
            errors.append(_error([str(name)], "extra fields not permitted", "value_error.extra"))
    return cleaned, errors
