"""Reading a runner's annotations and Input(...) defaults into TypeSpecs and InputSpecs, with Cog's rules for
what may be an input or an output (RunnerError otherwise). Duck-typed, so upstream cog's classes work too."""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import inspect
import io
import os
import typing
from typing import Any

from cognix.runtime import _compat
from cognix.runtime.specs import FieldData, InputSpec, OutputSpec, RunnerError, TypeSpec
from cognix.runtime.typetable import INPUT_KINDS, Kind

PRIMITIVES = {str: Kind.STR, int: Kind.INT, float: Kind.FLOAT, bool: Kind.BOOL}

# ---------------------------------------------------------------------------------------------- types


def _is_cog_class(tp: Any, name: str) -> bool:
    """A class named `name` from a `cog` module (ours or upstream's), or a subclass of one."""
    if not isinstance(tp, type):
        return False
    for klass in tp.__mro__:
        module = getattr(klass, "__module__", "") or ""
        if klass.__name__ == name and (module == "cog" or module.startswith("cog.")):
            return True
    return False


def _is_base_model(tp: Any) -> bool:
    if not isinstance(tp, type):
        return False
    if _is_cog_class(tp, "BaseModel"):
        return tp.__name__ != "BaseModel" or not (tp.__module__ or "").startswith("cog")
    return any(k.__name__ == "BaseModel" and (k.__module__ or "").startswith("pydantic") for k in tp.__mro__[1:])


def _leaf_kind(tp: Any) -> str | None:
    if tp in PRIMITIVES:
        return PRIMITIVES[tp]
    if tp is Any or tp is dict or tp is object:
        return "object"
    if _is_cog_class(tp, "Secret"):
        return "secret"
    if _is_cog_class(tp, "File") or (isinstance(tp, type) and issubclass(tp, io.IOBase)):
        return "file"
    if isinstance(tp, type) and issubclass(tp, os.PathLike):
        return "path"
    if _compat.is_typeddict(tp):
        return "object"
    return None


def _is_opaque_marker(meta: Any) -> bool:
    return getattr(meta, "__name__", None) == "Opaque" or type(meta).__name__ == "Opaque"


def _is_none(tp: Any) -> bool:
    return tp is None or tp is type(None)


def _union_args(tp: Any) -> tuple | None:
    if _compat.get_origin(tp) in _compat.UNION_ORIGINS:
        return _compat.get_args(tp)
    return None


def resolve_type(tp: Any, where: str, *, output: bool = False) -> TypeSpec:
    """Reduce an annotation to a TypeSpec (RunnerError for unsupported ones)."""
    origin = _compat.get_origin(tp)
    if origin is _compat.Annotated:
        base, *metadata = _compat.get_args(tp)
        if any(_is_opaque_marker(m) for m in metadata):
            # passed through untouched: an object, or an array of objects for list / list[T]
            inner = base
            if _union_args(base) is not None:
                members = [a for a in _union_args(base) if not _is_none(a)]
                inner = members[0] if len(members) == 1 else base
            is_list = inner is list or _compat.get_origin(inner) in (list, typing.List)
            return TypeSpec(kind="object", opaque=True, repeated=is_list, nullable=inner is not base)
        return resolve_type(base, where, output=output)
    args = _union_args(tp)
    if args is not None:
        members = [a for a in args if not _is_none(a)]
        nullable = len(members) != len(args)
        if len(members) == 1:
            spec = resolve_type(members[0], where, output=output)
            return dataclasses.replace(spec, nullable=True) if nullable else spec
        specs = [resolve_type(m, where, output=output) for m in members]
        for spec in specs:
            if not spec.kind.rule.union_member:
                raise RunnerError(f"{where}: unions may only combine str, int, float, bool, dict/Any, list[T] and None")
        return TypeSpec(kind="union", members=specs, nullable=nullable)
    if origin in (list, typing.List, collections.abc.Sequence):
        (item,) = _compat.get_args(tp) or (Any,)
        spec = resolve_type(item, where, output=output)
        if output and (spec.repeated or spec.nullable or spec.kind == "array"):
            # nested lists and lists of Optional items in outputs, as pydantic-era Cog and the current generator
            # take them (List[List[float]] embeddings): an array whose items are any output type
            return TypeSpec(kind="array", items=as_array(spec))
        if spec.repeated or spec.nullable or spec.kind == "array":
            raise RunnerError(f"{where}: nested generics such as list[list[T]] or list[Optional[T]] are not supported")
        return dataclasses.replace(spec, repeated=True)
    if tp is list:
        return TypeSpec(kind="object", repeated=True) if not output else TypeSpec(kind="any", repeated=True)
    if origin in (dict, typing.Dict, collections.abc.Mapping):
        args = _compat.get_args(tp)
        values = resolve_type(args[1], where, output=output) if output and len(args) == 2 and args[1] is not Any else None
        return TypeSpec(kind="object", values=values)
    if output and _is_base_model(tp):
        return TypeSpec(kind="model", model=tp, fields=_model_fields(tp, where))
    kind = _leaf_kind(tp)
    if kind is not None:
        return TypeSpec(kind=kind)
    if output and isinstance(tp, type) and issubclass(tp, enum.Enum):
        return TypeSpec(kind="str")
    raise RunnerError(f"{where}: unsupported type {_type_name(tp)}")


def as_array(spec: TypeSpec) -> TypeSpec:
    """A list spec (`repeated`) as kind "array" with its items (nullable stays the list's); others unchanged."""
    if not spec.repeated:
        return spec
    return TypeSpec(kind="array", items=dataclasses.replace(spec, repeated=False, nullable=False),
                    nullable=spec.nullable)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__qualname__", None) or repr(tp)


def _model_fields(model: type, where: str) -> list[tuple[str, TypeSpec, bool]]:
    out = []
    pydantic_fields = getattr(model, "model_fields", None) or getattr(model, "__fields__", None)
    if dataclasses.is_dataclass(model):
        hints = _compat.get_type_hints(model)
        for f in dataclasses.fields(model):
            has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            out.append((f.name, resolve_type(hints[f.name], f"{where} field {f.name!r}", output=True), has_default))
    elif isinstance(pydantic_fields, dict):
        hints = _compat.get_type_hints(model)
        for fname, finfo in pydantic_fields.items():
            tp = hints.get(fname, getattr(finfo, "annotation", Any))
            required = getattr(finfo, "required", None)
            if isinstance(required, bool):  # pydantic 1's ModelField: its default is None for required fields too
                has_default = not required
            else:
                has_default = (not _is_undefined(getattr(finfo, "default", ...))
                               or getattr(finfo, "default_factory", None))
            out.append((fname, resolve_type(tp, f"{where} field {fname!r}", output=True), bool(has_default)))
    else:
        hints = _compat.get_type_hints(model)
        for fname, tp in hints.items():
            if fname.startswith("_") or _compat.get_origin(tp) is typing.ClassVar:
                continue
            out.append((fname, resolve_type(tp, f"{where} field {fname!r}", output=True), hasattr(model, fname)))
    return out


def output_spec(tp: Any, where: str) -> OutputSpec:
    origin = _compat.get_origin(tp)
    iter_origins = {
        collections.abc.Iterator: False,
        collections.abc.Generator: False,
        collections.abc.Iterable: False,
        collections.abc.AsyncIterator: True,
        collections.abc.AsyncGenerator: True,
        collections.abc.AsyncIterable: True,
    }
    concatenate = False
    is_async_iter = None
    item: Any = None
    if isinstance(tp, type) and (_is_cog_class(tp, "ConcatenateIterator") or _is_cog_class(tp, "AsyncConcatenateIterator")):
        concatenate, is_async_iter, item = True, _is_cog_class(tp, "AsyncConcatenateIterator"), str
    elif origin is not None and isinstance(origin, type) and (
        _is_cog_class(origin, "ConcatenateIterator") or _is_cog_class(origin, "AsyncConcatenateIterator")
    ):
        concatenate = True
        is_async_iter = _is_cog_class(origin, "AsyncConcatenateIterator")
        item = (_compat.get_args(tp) or (str,))[0]
    elif origin in iter_origins:
        is_async_iter = iter_origins[origin]
        item = (_compat.get_args(tp) or (Any,))[0]
    if is_async_iter is not None:
        spec = as_array(resolve_type(item, where, output=True))  # Iterator[List[int]]: each item an array
        if spec.kind == "union":
            raise RunnerError(f"{where}: iterator items may not be unions")
        if concatenate and (spec.kind != "str" or spec.nullable):
            raise RunnerError(f"{where}: ConcatenateIterator must yield str")
        return OutputSpec(type=spec, iterator=True, is_async_iterator=is_async_iter, concatenate=concatenate)
    if tp is Any or tp is None or tp is type(None):
        return OutputSpec(type=TypeSpec(kind="any"))
    spec = resolve_type(tp, where, output=True)
    if spec.kind == "union":
        raise RunnerError(f"{where}: union return types are not supported")
    if spec.nullable:
        raise RunnerError(f"{where}: Optional[...] is not supported as a return type")
    return OutputSpec(type=spec)


# ---------------------------------------------------------------------------------------------- inputs


def _is_undefined(value: Any) -> bool:
    """No default: our MISSING, Ellipsis, pydantic's Undefined, or any *Missing*/*Undefined* sentinel."""
    if value is Ellipsis:
        return True
    name = type(value).__name__.lower()
    return any(word in name for word in ("missing", "undefined", "unset"))


def _is_field_info(value: Any) -> bool:
    return type(value).__name__ == "FieldInfo" or (
        hasattr(value, "default") and hasattr(value, "description") and not isinstance(value, (str, int, float))
    )


def _read_field(value: Any) -> tuple[FieldData, bool, Any]:
    """FieldData, has_default, default from a FieldInfo-like object (ours, upstream cog's, pydantic v1/v2)."""
    data = FieldData()
    data.description = getattr(value, "description", None)
    extra: dict[str, Any] = {}
    for source in ("json_schema_extra", "extra"):
        candidate = getattr(value, source, None)
        if isinstance(candidate, dict):
            extra.update(candidate)
    for attr in ("ge", "le", "min_length", "max_length", "regex", "choices", "deprecated", "accept"):
        found = getattr(value, attr, None)
        if found is None:
            found = extra.get(attr)
        setattr(data, attr, found)
    if data.regex is None:
        data.regex = getattr(value, "pattern", None) or extra.get("pattern")
    for meta in getattr(value, "metadata", None) or ():  # pydantic v2 keeps constraints in annotated_types objects
        for attr, target in (("ge", "ge"), ("le", "le"), ("min_length", "min_length"),
                             ("max_length", "max_length"), ("pattern", "regex")):
            if getattr(meta, attr, None) is not None and getattr(data, target) is None:
                setattr(data, target, getattr(meta, attr))
    if isinstance(data.deprecated, str):  # pydantic v2 uses a message string
        data.deprecated = True
    if data.choices is not None:
        data.choices = list(data.choices)
    default = getattr(value, "default", None)
    has_default = not _is_undefined(default)
    return data, has_default, default if has_default else None


def _check_constraints(spec: InputSpec, where: str) -> None:
    f, t = spec.field, spec.type
    rule = t.kind.rule
    numeric = rule.numeric and not t.repeated
    if (f.ge is not None or f.le is not None) and not numeric:
        raise RunnerError(f"{where}: ge/le apply only to int and float inputs")
    if (f.min_length is not None or f.max_length is not None or f.regex is not None) and not (
        rule.textual and not t.repeated
    ):
        raise RunnerError(f"{where}: min_length/max_length/regex apply only to str inputs")
    if f.choices is not None:
        if rule.choices is None:
            raise RunnerError(f"{where}: choices apply only to str and int inputs")
        if len(f.choices) < 2:
            raise RunnerError(f"{where}: choices needs at least 2 values")
        if any(isinstance(c, bool) or not isinstance(c, rule.choices) for c in f.choices):
            raise RunnerError(f"{where}: every choice must be a {t.kind}")
        if any(x is not None for x in (f.ge, f.le, f.min_length, f.max_length)):
            raise RunnerError(f"{where}: choices can't be combined with ge/le/min_length/max_length")
    if t.kind == "union" and any(
        x is not None for x in (f.ge, f.le, f.min_length, f.max_length, f.regex, f.choices)
    ):
        raise RunnerError(f"{where}: union inputs can't carry constraints or choices")
    if spec.has_default and spec.default is not None and not t.repeated:
        value = spec.default
        if f.choices is not None and value not in f.choices:
            raise RunnerError(f"{where}: default {value!r} is not one of the choices {f.choices!r}")
        if numeric and isinstance(value, (int, float)):
            if f.ge is not None and value < f.ge:
                raise RunnerError(f"{where}: default {value!r} is less than ge={f.ge!r}")
            if f.le is not None and value > f.le:
                raise RunnerError(f"{where}: default {value!r} is greater than le={f.le!r}")
        if isinstance(value, str):
            if f.min_length is not None and len(value) < f.min_length:
                raise RunnerError(f"{where}: default {value!r} is shorter than min_length={f.min_length}")
            if f.max_length is not None and len(value) > f.max_length:
                raise RunnerError(f"{where}: default {value!r} is longer than max_length={f.max_length}")


def input_spec(param: inspect.Parameter, order: int, annotation: Any, where: str, *,
                explicit_default: bool | None = None) -> InputSpec:
    tspec = resolve_type(annotation, where)
    if tspec.kind not in INPUT_KINDS + ("union",):
        raise RunnerError(f"{where}: unsupported input type {_type_name(annotation)}")
    raw = param.default
    if raw is param.empty:
        data, has_default, default = FieldData(), False, None
    elif _is_field_info(raw):
        data, has_default, default = _read_field(raw)
        if default is None and explicit_default is False:
            has_default = False  # upstream's `Input(description=...)` stores default=None: the source says "no default"
    else:
        data, has_default, default = FieldData(), True, raw
    if isinstance(default, enum.Enum):
        default = default.value
    if isinstance(default, os.PathLike):
        default = os.fspath(default)
    nullable = tspec.nullable
    if tspec.kind == "secret" and not tspec.repeated and has_default and default is None:
        nullable = True  # `Secret = Input(default=None)` is an optional credential (current generator's rule)
    effective_default = has_default and not (default is None and not nullable)
    required = not effective_default and not tspec.nullable
    spec = InputSpec(
        name=param.name,
        order=order,
        annotation=annotation,
        type=dataclasses.replace(tspec, nullable=nullable),
        field=data,
        has_default=effective_default,
        default=default if effective_default else None,
        required=required,
        nullable=nullable,
    )
    _check_constraints(spec, where)
    return spec
