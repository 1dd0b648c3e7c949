"""Load a runner (`predict.py:Predictor`, a class or a function) and describe its inputs and output.

Works with our `cog` shim and with upstream cog's classes (duck-typed), so a model that locks upstream cog is
introspected with the SDK it ships.
"""

from __future__ import annotations

import ast
import collections.abc
import dataclasses
import enum
import importlib.util
import inspect
import io
import os
import sys
import textwrap
import types
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from cognix.runtime import _compat
from cognix.runtime.shim import install_shim
from cognix.runtime.typetable import INPUT_KINDS, Kind

__all__ = ["INPUT_KINDS", "RunnerError", "TypeSpec", "resolve_type"]

# Type kinds of one value (TypeSpec.kind); what each means is typetable.py's
PRIMITIVES = {str: Kind.STR, int: Kind.INT, float: Kind.FLOAT, bool: Kind.BOOL}


class RunnerError(Exception):
    """The runner can't be loaded or its signature isn't valid for Cog (definition-time error)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass
class TypeSpec:
    """One annotation reduced to what the schema and the runtime need."""

    kind: Kind  # given as a Kind or its name
    repeated: bool = False  # list[T]
    nullable: bool = False  # Optional[T]
    opaque: bool = False  # Annotated[T, Opaque]
    members: list[TypeSpec] = field(default_factory=list)  # union members
    model: type | None = None  # BaseModel output class
    fields: list[tuple[str, TypeSpec, bool]] = field(default_factory=list)  # model fields (name, type, has_default)
    values: TypeSpec | None = None  # dict[str, T] output values
    items: TypeSpec | None = None  # kind "array" (outputs only): a list whose items are lists or Optional,
    #                                e.g. List[List[float]] (embeddings) or List[Optional[str]]

    def __post_init__(self) -> None:
        self.kind = Kind(self.kind)


@dataclass
class FieldData:
    """Input(...) metadata, read from our FieldInfo or any look-alike (upstream cog, pydantic)."""

    description: str | None = None
    ge: float | int | None = None
    le: float | int | None = None
    min_length: int | None = None
    max_length: int | None = None
    regex: str | None = None
    choices: list[Any] | None = None
    deprecated: bool | None = None
    accept: str | None = None


@dataclass
class InputSpec:
    name: str
    order: int
    annotation: Any
    type: TypeSpec
    field: FieldData
    has_default: bool  # a default was written (possibly None)
    default: Any  # the written default (meaningful only when has_default)
    required: bool  # listed in the schema's `required`
    nullable: bool  # null is a valid value


@dataclass
class OutputSpec:
    type: TypeSpec
    iterator: bool = False  # Iterator/Generator: a list output produced item by item
    is_async_iterator: bool = False
    concatenate: bool = False  # ConcatenateIterator


@dataclass
class RunnerInfo:
    ref: str
    mode: str
    name: str  # the class or function name
    method: str  # "run", "predict" or the function's own name
    inputs: list[InputSpec]
    output: OutputSpec
    is_async: bool  # run method is `async def` (coroutine or async generator)
    is_generator: bool  # run method yields (sync or async)
    streaming: bool  # @streaming
    concurrent_max: int | None  # @concurrent(max=N)
    setup_takes_weights: bool
    setup_is_async: bool
    is_class: bool
    has_healthcheck: bool

    @property
    def is_concatenate(self) -> bool:
        return self.output.concatenate

    @property
    def is_iterator(self) -> bool:
        return self.output.iterator

    def input(self, name: str) -> InputSpec | None:
        return next((spec for spec in self.inputs if spec.name == name), None)


_REQUIRED = object()


class Runner:
    """A loaded runner: `setup(weights)`, `call(kwargs)`, `healthcheck()`."""

    def __init__(self, info: RunnerInfo, target: Any) -> None:
        self.info = info
        self._target = target  # the class or the function
        self._instance: Any = None

    def _object(self) -> Any:
        if self.info.is_class and self._instance is None:
            self._instance = self._target()
        return self._instance

    def setup(self, weights: str | None = None) -> Any:
        """Run the model's setup(); returns a coroutine when setup is async (await it)."""
        if not self.info.is_class:
            return None
        instance = self._object()
        setup = getattr(instance, "setup", None)
        if setup is None:
            return None
        if self.info.setup_takes_weights:
            return setup(weights)
        return setup()

    def call(self, kwargs: dict[str, Any]) -> Any:
        """Call the run method; missing inputs get their declared default (or None). May return a coroutine/iterator."""
        arguments = {}
        for spec in self.info.inputs:
            if spec.name in kwargs:
                arguments[spec.name] = kwargs[spec.name]
            elif spec.has_default:
                arguments[spec.name] = _copy_default(spec.default)
            else:
                arguments[spec.name] = None
        if self.info.is_class:
            return getattr(self._object(), self.info.method)(**arguments)
        return self._target(**arguments)

    def healthcheck(self) -> Any:
        """The model's healthcheck() result (maybe a coroutine), or True when it has none."""
        if not self.info.has_healthcheck:
            return True
        return self._object().healthcheck()


def _copy_default(value: Any) -> Any:
    # mutable defaults (`tags: list[str] = []`) must not leak between predictions
    if isinstance(value, (list, dict, set)):
        import copy

        return copy.deepcopy(value)
    return value


# ---------------------------------------------------------------------------------------------- loading


def parse_ref(ref: str) -> tuple[str, str | None]:
    """'predict.py:Predictor' -> ('predict.py', 'Predictor'); no name -> None."""
    path, sep, name = ref.rpartition(":")
    if not sep:
        return ref, None
    if not path:
        raise RunnerError(f"invalid runner reference {ref!r}: expected 'file.py:Name'")
    return path, name or None


def import_module_from_file(path: Path, module_name: str) -> types.ModuleType:
    """Import a model file as a top-level module (its directory first on sys.path, like cog)."""
    directory = str(path.parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise RunnerError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as err:
        sys.modules.pop(module_name, None)
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        raise RunnerError(f"error importing {path.name}: {type(err).__name__}: {err}") from err
    return module


def load_runner(ref: str, *, mode: str = "predict", cwd: Path | None = None) -> Runner:
    """Import the runner named by `ref` ("file.py:Name") relative to `cwd` and inspect its signature."""
    install_shim()
    file_part, name = parse_ref(ref)
    path = Path(file_part)
    if not path.is_absolute():
        path = (cwd or Path.cwd()) / path
    if not path.is_file():
        raise RunnerError(f"{mode}: file {file_part!r} not found (from {ref!r})")
    module_name = path.stem if path.suffix == ".py" else path.name
    # predict and train often live in one file: import it once, unless it changed since
    stat = path.stat()
    stamp = (str(path), stat.st_mtime_ns, stat.st_size)
    existing = sys.modules.get(module_name)
    if existing is not None and getattr(existing, "__cognix_stamp__", None) == stamp:
        module = existing
    else:
        module = import_module_from_file(path, module_name)
        module.__cognix_stamp__ = stamp  # type: ignore[attr-defined]
    if name is None:
        for candidate in ("Runner", "Predictor"):
            if hasattr(module, candidate):
                name = candidate
                break
        else:
            raise RunnerError(f"{mode}: {file_part} defines neither 'Runner' nor 'Predictor'; name one: '{file_part}:Name'")
    target = getattr(module, name, None)
    if target is None:
        raise RunnerError(f"{mode}: {file_part} has no {name!r} (from {ref!r})")
    info = inspect_runner(target, ref=ref, mode=mode, name=name)
    return Runner(info, target)


def inspect_runner(target: Any, *, ref: str = "", mode: str = "predict", name: str | None = None) -> RunnerInfo:
    """Describe a runner class or function; RunnerError for definitions Cog rejects."""
    name = name or getattr(target, "__name__", "runner")
    where = f"{mode} ({ref or name})"
    if inspect.isclass(target):
        has_run = _defines(target, "run")
        has_predict = _defines(target, "predict")
        if has_run and has_predict:
            raise RunnerError(f"{where}: {name} defines both run() and predict(); keep exactly one")
        if not has_run and not has_predict:
            if _defines(target, "train"):  # a trainer class (train: "train.py:Trainer")
                method_name = "train"
            else:
                raise RunnerError(f"{where}: {name} must define run() (or the deprecated predict())")
        else:
            method_name = "run" if has_run else "predict"
        method = getattr(target, method_name)
        setup = getattr(target, "setup", None)
        setup_takes_weights, setup_is_async = _inspect_setup(setup, where) if setup is not None else (False, False)
        has_healthcheck = callable(getattr(target, "healthcheck", None))
        skip_self = True
        is_class = True
    elif callable(target):
        method, method_name = target, getattr(target, "__name__", "run")
        setup_takes_weights = setup_is_async = has_healthcheck = False
        skip_self = False
        is_class = False
    else:
        raise RunnerError(f"{where}: {name} is neither a class nor a function")

    func = inspect.unwrap(method)
    is_async = inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)
    is_generator = inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func)
    if setup_is_async and not is_async:
        raise RunnerError(f"{where}: async setup() needs an async {method_name}()")
    hints = _type_hints(func, where)
    source_streaming, explicit_defaults = _source_facts(func)
    signature = inspect.signature(func)
    params = list(signature.parameters.values())
    if skip_self and params:
        params = params[1:]
    inputs = []
    for order, param in enumerate(params):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.KEYWORD_ONLY, param.POSITIONAL_ONLY):
            raise RunnerError(f"{where}: {method_name}() parameter {param.name!r}: *args, **kwargs, keyword-only "
                              "and positional-only parameters are not supported")
        if param.name not in hints:
            raise RunnerError(f"{where}: {method_name}() parameter {param.name!r} needs a type annotation")
        inputs.append(_input_spec(param, order, hints[param.name], f"{where}: input {param.name!r}",
                                  explicit_default=explicit_defaults.get(param.name)))
    if "return" not in hints:
        raise RunnerError(f"{where}: {method_name}() needs a return type annotation (e.g. '-> str')")
    output = _output_spec(hints["return"], f"{where}: output")
    if is_generator and not output.iterator:
        # a generator annotated with a plain list/T still streams items; treat it as an iterator of that item
        item = output.type.items if output.type.kind == "array" and output.type.items is not None \
            else dataclasses.replace(output.type, repeated=False, nullable=False)
        output = OutputSpec(type=item, iterator=True, is_async_iterator=inspect.isasyncgenfunction(func))
    concurrent_max = getattr(method, "__cog_concurrent_max__", None) or getattr(func, "__cog_concurrent_max__", None)
    streaming = bool(getattr(method, "__cog_streaming__", False) or getattr(func, "__cog_streaming__", False)
                     or source_streaming)
    return RunnerInfo(
        ref=ref,
        mode=mode,
        name=name,
        method=method_name,
        inputs=inputs,
        output=output,
        is_async=is_async,
        is_generator=is_generator,
        streaming=streaming,
        concurrent_max=concurrent_max,
        setup_takes_weights=setup_takes_weights,
        setup_is_async=setup_is_async,
        is_class=is_class,
        has_healthcheck=has_healthcheck,
    )


def _defines(cls: type, attr: str) -> bool:
    """True if `attr` comes from the user's class hierarchy, not from an SDK base class."""
    for klass in cls.__mro__:
        if attr in vars(klass):
            module = getattr(klass, "__module__", "") or ""
            return not (module == "cog" or module.startswith("cog."))
    return False


def _inspect_setup(setup: Any, where: str) -> tuple[bool, bool]:
    func = inspect.unwrap(setup)
    params = list(inspect.signature(func).parameters.values())[1:]
    takes_weights = False
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.KEYWORD_ONLY):
            raise RunnerError(f"{where}: setup() may not take *args, **kwargs or keyword-only parameters")
        if param.name == "weights":
            takes_weights = True
        elif param.default is param.empty:
            raise RunnerError(f"{where}: setup() takes an unexpected required parameter {param.name!r} "
                              "(only 'weights' is allowed)")
    return takes_weights, inspect.iscoroutinefunction(func)


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        return _decorator_name(node.func)
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _source_facts(func: Callable) -> tuple[bool, dict[str, bool]]:
    """What only the source tells: a `@streaming` decorator (a no-op in upstream cog) and, per parameter whose
    default is a call like `Input(...)`, whether that call passes a default (upstream's Input() stores None)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return False, {}
    node = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if node is None:
        return False, {}
    streaming = any(_decorator_name(d) == "streaming" for d in node.decorator_list)
    params = [*node.args.posonlyargs, *node.args.args]
    explicit: dict[str, bool] = {}
    defaults = node.args.defaults
    for arg, default in zip(params[len(params) - len(defaults):], defaults):
        if isinstance(default, ast.Call):
            explicit[arg.arg] = bool(default.args) or any(k.arg == "default" for k in default.keywords)
    return streaming, explicit


def _type_hints(func: Callable, where: str) -> dict[str, Any]:
    try:
        return _compat.function_type_hints(func)
    except Exception as err:  # unresolvable forward reference, bad annotation expression
        raise RunnerError(f"{where}: cannot resolve type annotations: {err}") from err


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


def _output_spec(tp: Any, where: str) -> OutputSpec:
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


def _input_spec(param: inspect.Parameter, order: int, annotation: Any, where: str, *,
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


def warn_deprecations(info: RunnerInfo) -> None:
    """DeprecationWarnings that upstream emits for predict()/Predictor (shown in setup logs)."""
    if info.method == "predict":
        warnings.warn("predict() is deprecated; rename it to run() and subclass BaseRunner", DeprecationWarning,
                      stacklevel=2)
