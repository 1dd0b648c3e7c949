"""Load a runner (`predict.py:Predictor`, a class or a function) and describe its inputs and output.

Works with our `cog` shim and with upstream cog's classes (duck-typed), so a model that locks upstream cog is
introspected with the SDK it ships.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import inspect
import sys
import textwrap
import types
import warnings
from pathlib import Path
from typing import Any, Callable

from cognix.runtime import _compat
from cognix.runtime.annotations import input_spec, output_spec
from cognix.runtime.shim import install_shim
from cognix.runtime.specs import OutputSpec, RunnerError, RunnerInfo

# RunnerError and RunnerInfo are part of what loading gives: importers of load_runner get them here too
__all__ = ["Runner", "RunnerError", "RunnerInfo", "decorator_name", "inspect_runner", "load_runner", "parse_ref"]


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
        inputs.append(input_spec(param, order, hints[param.name], f"{where}: input {param.name!r}",
                                  explicit_default=explicit_defaults.get(param.name)))
    if "return" not in hints:
        raise RunnerError(f"{where}: {method_name}() needs a return type annotation (e.g. '-> str')")
    output = output_spec(hints["return"], f"{where}: output")
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


def decorator_name(node: ast.expr) -> str:
    """The last name of a decorator expression: `streaming`, `cog.streaming`, `torch.inference_mode()` ->
    `streaming`, `streaming`, `inference_mode`."""
    if isinstance(node, ast.Call):
        return decorator_name(node.func)
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
    streaming = any(decorator_name(d) == "streaming" for d in node.decorator_list)
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


def warn_deprecations(info: RunnerInfo) -> None:
    """DeprecationWarnings that upstream emits for predict()/Predictor (shown in setup logs)."""
    if info.method == "predict":
        warnings.warn("predict() is deprecated; rename it to run() and subclass BaseRunner", DeprecationWarning,
                      stacklevel=2)
