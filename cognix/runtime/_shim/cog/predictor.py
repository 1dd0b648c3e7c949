"""Runner base classes, and the loader helpers `cog.predictor` had in Cog releases 0.8 to 0.23.

The helpers that built the FastAPI server's pydantic request models (get_input_type, get_output_type and their
training forms) are not here: cognix's runtime describes inputs and outputs itself (cognix.runtime.predictor).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import types
import warnings
from typing import Any, Callable, Dict, List, Optional, Type, Union

from cog._scope import Scope, current_scope
from cog.base_input import BaseInput
from cog.errors import ConfigDoesNotExist, PredictorNotSet
from cog.input import Input
from cog.types import CogConfig, URLPath, Weights
from cog.types import File as CogFile
from cog.types import Path as CogPath
from cog.types import Path as Path
from cog.types import Secret as CogSecret
from cognix.runtime import _compat


def _user_defines(obj: Any, name: str) -> bool:
    """True if `name` comes from a class of the model's, not from these base classes (nor a function's type)."""
    if inspect.isroutine(obj):
        return False
    for klass in type(obj).__mro__:
        if name in vars(klass):
            return klass not in (BaseRunner, BasePredictor, object)
    return False


class BaseRunner:
    """Implement `run()` (and optionally `setup()`, `healthcheck()`)."""

    def setup(self, weights: Optional[Union[CogPath, str]] = None) -> None:  # noqa: D401 - optional hook
        """Prepare the model; called once before the first prediction."""
        return None

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Run the model once (a class that defines only the deprecated predict() gets it called)."""
        if _user_defines(self, "predict"):
            return self.predict(*args, **kwargs)
        raise NotImplementedError("run has not been implemented by parent class.")

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Deprecated: run()'s old name."""
        if _user_defines(self, "run"):
            warnings.warn(f"{type(self).__name__}.predict() is deprecated; use run() instead", DeprecationWarning,
                          stacklevel=2)
            return self.run(*args, **kwargs)
        raise NotImplementedError("predict has not been implemented by parent class.")

    def train(self, *args: Any, **kwargs: Any) -> Any:
        """Run a single training (cog <= 0.16's BasePredictor had this hook)."""
        raise NotImplementedError("train has not been implemented by parent class.")

    def record_metric(self, key: str, value: Any, mode: str = "replace") -> None:
        current_scope().record_metric(key, value, mode)

    @property
    def scope(self) -> Scope:
        return current_scope()


class BasePredictor(BaseRunner):
    """Deprecated alias of BaseRunner whose method is `predict()`."""


ALLOWED_INPUT_TYPES: List[Type[Any]] = [str, int, float, bool, CogFile, CogPath, CogSecret]


# ---------------------------------------------------------------------------------------------- loading


def load_full_predictor_from_file(module_path: str, module_name: str) -> types.ModuleType:
    """Import the model file as `module_name` (sys.argv hidden, so a model's argparse sees no server flags)."""
    spec = importlib.util.spec_from_file_location(module_name, module_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Cannot load module from {module_path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # so pickle finds its classes
    argv, sys.argv = sys.argv, sys.argv[:1]
    try:
        spec.loader.exec_module(module)
    finally:
        sys.argv = argv
    return module


def load_slim_predictor_from_file(module_path: str, class_name: str, method_name: str) -> Optional[types.ModuleType]:
    """cog 0.9+ imported a copy stripped to the signatures; the whole module here (same names, same types)."""
    return load_full_predictor_from_file(module_path, os.path.basename(module_path).split(".py", 1)[0])


def get_predictor(module: types.ModuleType, class_name: str) -> Any:
    """The runner: an instance of the class `class_name`, or the function of that name (training)."""
    predictor = getattr(module, class_name)
    return predictor() if inspect.isclass(predictor) else predictor


def load_predictor_from_ref(ref: str) -> Any:
    """'predict.py:Predictor' -> the runner (a class instance, or a function); no name: Runner, else Predictor."""
    module_path, _, class_name = ref.partition(":")
    module_name = os.path.basename(module_path).split(".py", 1)[0]
    module = load_full_predictor_from_file(module_path, module_name)
    if not class_name:
        class_name = "Runner" if hasattr(module, "Runner") else "Predictor"
        if not hasattr(module, class_name):
            raise AttributeError(f"module {module_name!r} has no Runner or Predictor")
    return get_predictor(module, class_name)


def load_slim_predictor_from_ref(ref: str, method_name: str) -> Any:
    return load_predictor_from_ref(ref)


def load_config() -> Dict[str, Any]:
    """cog.yaml of the working directory as a dict (needs PyYAML, which Cog's SDK brings)."""
    path = os.path.abspath("cog.yaml")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError as err:
        raise ConfigDoesNotExist(f"Could not find {path}") from err
    import yaml

    return yaml.safe_load(text) or {}


def get_predictor_ref(config: Dict[str, Any], mode: str = "predict") -> str:
    if mode not in ("predict", "train"):
        raise ValueError(f"Invalid mode: {mode}")
    ref = config.get(mode) or (config.get("run") if mode == "predict" else None)
    if not ref:
        raise PredictorNotSet(f"Can't run predictions: '{mode}' option not found in cog.yaml")
    return str(ref)


def load_predictor(config: Dict[str, Any]) -> Any:
    return load_predictor_from_ref(get_predictor_ref(config))


def _method(predictor: Any, names: tuple) -> Callable[..., Any]:
    for name in names:
        if _user_defines(predictor, name) and callable(getattr(predictor, name, None)):
            return getattr(predictor, name)
    return predictor  # a function (training functions are)


def get_predict(predictor: Any) -> Callable[..., Any]:
    """The method predictions call: the model's run() or predict(), or the function itself."""
    return _method(predictor, ("run", "predict"))


def get_train(predictor: Any) -> Callable[..., Any]:
    return _method(predictor, ("train",))


def get_healthcheck(predictor: Any) -> Optional[Callable[..., Any]]:
    fn = getattr(predictor, "healthcheck", None)
    return fn if callable(fn) else None


def has_user_healthcheck(predictor: Any) -> bool:
    return callable(getattr(predictor, "healthcheck", None))


# ---------------------------------------------------------------------------------------------- setup and weights


def get_weights_type(setup_function: Callable[..., Any]) -> Optional[Any]:
    """The annotation of setup()'s `weights` parameter (Optional[T] -> T), or None when it takes none."""
    signature = inspect.signature(setup_function)
    if "weights" not in signature.parameters:
        return None
    annotation = signature.parameters["weights"].annotation
    if is_optional(annotation):
        annotation = _compat.get_args(annotation)[0]
    return annotation


def has_setup_weights(predictor: Any) -> bool:
    setup = getattr(predictor, "setup", None)
    return setup is not None and "weights" in inspect.signature(setup).parameters


def get_weights_argument(predictor: Any) -> Union[CogFile, CogPath, str, None]:
    """What setup(weights) receives: COG_WEIGHTS converted to setup's annotation (File, Path or str), else a
    `weights` file or directory in the working directory, else None."""
    weights_type = get_weights_type(predictor.setup)
    if weights_type is None:
        return None
    url = os.environ.get("COG_WEIGHTS")
    if url:
        if weights_type is CogFile:
            return CogFile.validate(url)
        if weights_type is CogPath:
            return CogPath.validate(url)
        return url
    if os.path.exists("weights"):
        if weights_type is CogFile:
            return open("weights", "rb")  # noqa: SIM115 - handed to setup()
        if weights_type is CogPath:
            return CogPath("weights")
    return None


def extract_setup_weights(predictor: Any) -> Optional[Union[CogPath, str]]:
    """COG_WEIGHTS (0.23: the string as given), or None."""
    return os.environ.get("COG_WEIGHTS") or None


def run_setup(predictor: Any) -> None:
    weights = get_weights_argument(predictor) if has_setup_weights(predictor) else None
    result = predictor.setup(weights=weights) if weights else predictor.setup()
    if inspect.isawaitable(result):
        import asyncio

        asyncio.run(_await(result))


async def _await(awaitable: Any) -> Any:
    return await awaitable


async def run_setup_async(predictor: Any) -> None:
    weights = get_weights_argument(predictor) if has_setup_weights(predictor) else None
    result = predictor.setup(weights=weights) if weights else predictor.setup()
    if inspect.isawaitable(result):
        await result


def run_prediction(predictor: Any, inputs: Dict[Any, Any], cleanup_functions: List[Callable[[], None]]) -> Any:
    """Call the predictor with `inputs`; a Path it returns is removed by the cleanup functions."""
    result = get_predict(predictor)(**inputs)
    if isinstance(result, CogPath):
        cleanup_functions.append(result.unlink)
    return result


# ---------------------------------------------------------------------------------------------- type helpers


def is_none(type_arg: Any) -> bool:
    return type_arg is type(None)


def is_union(tp: Any) -> bool:
    return _compat.get_origin(tp) in _compat.UNION_ORIGINS


def is_optional(tp: Any) -> bool:
    args = _compat.get_args(tp)
    return is_union(tp) and len(args) == 2 and is_none(args[1])


def human_readable_type_name(t: Any) -> str:
    """'str', 'cog.Path', 'pathlib.PosixPath' (cog's own types are shown as `cog.X`)."""
    module = getattr(t, "__module__", "")
    if module == "builtins":
        return t.__qualname__
    if module.split(".")[0] == "cog":
        module = "cog"
    try:
        return module + "." + t.__qualname__
    except AttributeError:
        return str(t)


def readable_types_list(type_list: List[Any]) -> str:
    return ", ".join(human_readable_type_name(t) for t in type_list)


def validate_input_type(tp: Any, name: str) -> None:
    """TypeError for an input annotation Cog does not take (the same rules the runtime's loader applies)."""
    if tp is inspect.Signature.empty:
        raise TypeError(f"No input type provided for parameter `{name}`. Supported input types are: "
                        f"{readable_types_list(ALLOWED_INPUT_TYPES)}, or a Union or List of those types.")
    from cognix.runtime.annotations import resolve_type
    from cognix.runtime.specs import RunnerError
    from cognix.runtime.typetable import INPUT_KINDS

    try:
        spec = resolve_type(tp, f"input {name!r}")
    except RunnerError as err:
        raise TypeError(err.message) from None
    if spec.kind not in INPUT_KINDS + ("union",):
        raise TypeError(f"Unsupported input type {human_readable_type_name(tp)} for parameter `{name}`. Supported "
                        f"input types are: {readable_types_list(ALLOWED_INPUT_TYPES)}, or a Union or List of those "
                        "types.")


def __getattr__(name: str) -> Any:
    if name == "PYDANTIC_V2":  # computed on first use (cog.types)
        from cog import types

        return types.PYDANTIC_V2
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ALLOWED_INPUT_TYPES",
    "BaseInput",
    "BasePredictor",
    "BaseRunner",
    "CogConfig",
    "CogFile",
    "CogPath",
    "CogSecret",
    "ConfigDoesNotExist",
    "Input",
    "PYDANTIC_V2",
    "Path",
    "PredictorNotSet",
    "URLPath",
    "Weights",
    "extract_setup_weights",
    "get_healthcheck",
    "get_predict",
    "get_predictor",
    "get_predictor_ref",
    "get_train",
    "get_weights_argument",
    "get_weights_type",
    "has_setup_weights",
    "has_user_healthcheck",
    "human_readable_type_name",
    "is_none",
    "is_optional",
    "is_union",
    "load_config",
    "load_full_predictor_from_file",
    "load_predictor",
    "load_predictor_from_ref",
    "load_slim_predictor_from_file",
    "load_slim_predictor_from_ref",
    "readable_types_list",
    "run_prediction",
    "run_setup",
    "run_setup_async",
    "validate_input_type",
]
