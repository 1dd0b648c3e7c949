"""The runtime runs on every Python Cog accepts (3.8 to 3.14): static checks of its source, and the schema of
3.8-style predictors computed by `python -m cognix.runtime.schema` on the runtime's interpreter (COGNIX_RUNTIME_PYTHON,
see conftest.py) against the one computed here.

Nothing here needs other interpreters; test_runtime_pythons.py runs these and the conformance suite on each one found.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

from cognix.runtime import _compat
from cognix.runtime.predictor import load_runner
from cognix.runtime.schema import openapi_schema
from cognix.runtime.shim import install_shim

install_shim()
from cog import Opaque  # noqa: E402 - importable once the shim is on sys.path

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "cognix" / "runtime"
RUNTIME_PYTHON = os.environ.get("COGNIX_RUNTIME_PYTHON") or sys.executable  # as in conftest.py
OLDEST = (3, 8)


def runtime_files() -> list[Path]:
    """Every module that ships in images: cognix/runtime (the cog shim included) and cognix/__init__.py."""
    return sorted(RUNTIME.rglob("*.py")) + [REPO / "cognix" / "__init__.py"]


def _ids(path: Path) -> str:
    return str(path.relative_to(REPO))


# ---------------------------------------------------------------------------------------------- static checks

# Generic classes that are subscriptable only from 3.9 on (PEP 585): subscripting one outside an unevaluated
# annotation raises TypeError on 3.8.
_PEP585 = {
    "builtins": {"list", "dict", "set", "frozenset", "tuple", "type"},
    "collections": {"deque", "defaultdict", "OrderedDict", "Counter", "ChainMap"},
    "collections.abc": "*",
    "contextlib": {"AbstractContextManager", "AbstractAsyncContextManager"},
    "re": {"Pattern", "Match"},
    "os": {"PathLike", "DirEntry"},
    "queue": {"Queue", "SimpleQueue", "LifoQueue", "PriorityQueue"},
    "asyncio": {"Queue", "Future", "Task", "PriorityQueue", "LifoQueue"},
    "contextvars": {"ContextVar", "Token"},
    "concurrent.futures": {"Future"},
    "functools": {"partial", "partialmethod", "cached_property"},
    "weakref": {"ref", "WeakSet", "WeakKeyDictionary", "WeakValueDictionary"},
    "itertools": {"chain"},
    "dataclasses": {"Field"},
}
_BUILTIN_TYPES = {"str", "int", "float", "bool", "bytes", "complex", "object"} | _PEP585["builtins"]

# typing introspection that differs by version: the runtime goes through _compat's (Annotated-aware on 3.8, and
# without the implicit Optional that get_type_hints adds before 3.11)
_COMPAT_ONLY = {"typing.get_type_hints", "typing.get_origin", "typing.get_args", "typing_extensions.get_type_hints",
                "typing_extensions.get_origin", "typing_extensions.get_args", "typing_extensions.Annotated"}
# APIs newer than 3.8, or gone or deprecated by 3.14: the runtime must not use them outside _compat.py.
_NEWER_OR_GONE = {
    # 3.9+
    "typing.Annotated", "functools.cache",
    "asyncio.to_thread", "math.lcm", "random.randbytes", "os.waitstatus_to_exitcode", "types.GenericAlias",
    "importlib.resources.files",
    # 3.10+
    "typing.is_typeddict", "typing.TypeAlias", "typing.ParamSpec", "typing.Concatenate", "typing.TypeGuard",
    "types.UnionType", "types.NoneType", "types.EllipsisType", "itertools.pairwise", "contextlib.aclosing",
    "sys.stdlib_module_names", "sys.orig_argv",
    # 3.11+
    "typing.Self", "typing.Never", "typing.LiteralString", "typing.assert_never", "typing.reveal_type",
    "typing.Required", "typing.NotRequired", "typing.Unpack", "typing.TypeVarTuple", "typing.dataclass_transform",
    "asyncio.TaskGroup", "asyncio.timeout", "asyncio.Runner", "contextlib.chdir", "datetime.UTC",
    # 3.12+
    "typing.override", "itertools.batched",
    # deprecated or removed by 3.14
    "asyncio.get_event_loop", "asyncio.iscoroutinefunction", "asyncio.get_event_loop_policy",
    "asyncio.set_event_loop_policy", "asyncio.get_child_watcher", "asyncio.set_child_watcher",
    "pkgutil.find_loader", "pkgutil.get_loader", "ast.Num", "ast.Str", "ast.Bytes", "ast.NameConstant",
    "ast.Ellipsis", "typing.ByteString", "typing.no_type_check_decorator", "datetime.datetime.utcnow",
    "datetime.datetime.utcfromtimestamp", "locale.getdefaultlocale", "codecs.open",
}
_NEWER_BUILTINS = {"aiter", "anext", "ExceptionGroup", "BaseExceptionGroup", "EncodingWarning"}
_NEWER_METHODS = {"removeprefix", "removesuffix", "is_relative_to", "with_stem", "hardlink_to", "bit_count"}
_NEWER_MODULES = {"zoneinfo", "graphlib", "tomllib", "annotationlib"}
_GONE_MODULES = {"imp", "distutils", "asynchat", "asyncore", "smtpd", "cgi", "cgitb", "imghdr", "pipes", "crypt",
                 "telnetlib", "nntplib", "audioop", "chunk", "mailcap", "msilib", "nis", "ossaudiodev", "sndhdr",
                 "spwd", "sunau", "uu", "xdrlib", "lib2to3"}


class _Checker(ast.NodeVisitor):
    """Finds what fails on 3.8 at run time (or on 3.14): PEP 585/604 forms outside unevaluated annotations, and
    APIs from _NEWER_OR_GONE. Annotations are unevaluated only under `from __future__ import annotations`."""

    def __init__(self, tree: ast.Module, compat: bool) -> None:
        self.problems: list[str] = []
        self.compat = compat
        self.future = any(isinstance(n, ast.ImportFrom) and n.module == "__future__"
                          and any(a.name == "annotations" for a in n.names) for n in tree.body)
        self.names: dict[str, str] = {}  # local name -> qualified name, from imports
        self.in_annotation = False
        self.function_depth = 0

    def report(self, node: ast.AST, what: str) -> None:
        self.problems.append(f"line {node.lineno}: {what}")

    def qualname(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            return f"builtins.{node.id}" if node.id in _BUILTIN_TYPES else None
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    # imports
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.names[(alias.asname or alias.name).split(".")[0]] = (alias.name if alias.asname
                                                                     else alias.name.split(".")[0])
            self._module(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and not node.level:
            self._module(node, node.module)
            for alias in node.names:
                qualified = f"{node.module}.{alias.name}"
                self.names[alias.asname or alias.name] = qualified
                if not self.compat:
                    self._api(node, qualified, "imports")

    def _module(self, node: ast.AST, module: str) -> None:
        top = module.split(".")[0]
        if top in _NEWER_MODULES | _GONE_MODULES and not self.compat:
            self.report(node, f"imports {module}")

    # annotations
    def _annotation(self, node: ast.AST | None, evaluated: bool) -> None:
        if node is None:
            return
        if evaluated:
            saved, self.in_annotation = self.in_annotation, True
            self.visit(node)
            self.in_annotation = saved

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None:
                self._annotation(arg.annotation, not self.future)
        for default in [*args.defaults, *[d for d in args.kw_defaults if d is not None]]:
            self.visit(default)
        self._annotation(node.returns, not self.future)
        self.function_depth += 1
        for statement in node.body:
            self.visit(statement)
        self.function_depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        # a class body's annotations are evaluated (without the future import), also in a class inside a function
        saved, self.function_depth = self.function_depth, 0
        self.generic_visit(node)
        self.function_depth = saved

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        # a local variable's annotation is never evaluated; a module's or class's is (without the future import)
        self._annotation(node.annotation, not self.future and self.function_depth == 0)
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    # expressions
    def visit_Subscript(self, node: ast.Subscript) -> None:
        name = self.qualname(node.value)
        if name:
            module, _, attr = name.rpartition(".")
            allowed = _PEP585.get(module)
            if allowed == "*" or (allowed and attr in allowed):
                where = "an evaluated annotation" if self.in_annotation else "an expression"
                self.report(node, f"subscripts {name} in {where} (PEP 585: Python 3.9+; use typing's alias)")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.BitOr):
            sides = (node.left, node.right)
            if any(isinstance(s, ast.Constant) and s.value is None for s in sides) or any(
                (self.qualname(s) or "").startswith(("builtins.", "typing.", "cog.")) for s in sides
            ) or self.in_annotation:
                self.report(node, "uses X | Y on types (PEP 604: Python 3.10+; use typing.Optional/Union)")
        self.generic_visit(node)

    def _api(self, node: ast.AST, name: str | None, verb: str) -> None:
        if name in _NEWER_OR_GONE:
            self.report(node, f"{verb} {name}")
        elif name in _COMPAT_ONLY:
            self.report(node, f"{verb} {name} (use cognix.runtime._compat's)")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if not self.compat:
            self._api(node, self.qualname(node), "uses")
        if node.attr in _NEWER_METHODS:
            self.report(node, f"calls .{node.attr}() (Python 3.9+)")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in _NEWER_BUILTINS and node.id not in self.names:
            self.report(node, f"uses the builtin {node.id} (Python 3.10+)")

    def visit_Call(self, node: ast.Call) -> None:
        func = self.qualname(node.func)
        if func == "builtins.zip" or (isinstance(node.func, ast.Name) and node.func.id == "zip"):
            if any(k.arg == "strict" for k in node.keywords):
                self.report(node, "calls zip(strict=...) (Python 3.10+)")
        if isinstance(node.func, ast.Name) and node.func.id == "dataclass" or func == "dataclasses.dataclass":
            for keyword in node.keywords:
                if keyword.arg in ("kw_only", "slots", "match_args", "weakref_slot"):
                    self.report(node, f"passes dataclass({keyword.arg}=...) (Python 3.10+)")
        self.generic_visit(node)


_NEWER_SYNTAX = tuple(getattr(ast, name) for name in ("Match", "TryStar", "TypeAlias") if hasattr(ast, name))


def _dotted(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) or (isinstance(node, ast.Attribute) and _dotted(node.value))


@pytest.mark.parametrize("path", runtime_files(), ids=_ids)
def test_runtime_source_is_python_38(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path), feature_version=OLDEST)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, _NEWER_SYNTAX):
            problems.append(f"line {node.lineno}: {type(node).__name__} statement (Python 3.10+)")
        if getattr(node, "type_params", None):
            problems.append(f"line {node.lineno}: type parameters (Python 3.12+)")
        for decorator in getattr(node, "decorator_list", ()):
            if not _dotted(decorator.func if isinstance(decorator, ast.Call) else decorator):
                problems.append(f"line {decorator.lineno}: a decorator that is not a dotted name (Python 3.9+)")
    checker = _Checker(tree, compat=path.name == "_compat.py")
    checker.visit(tree)
    problems += checker.problems
    assert not problems, f"{_ids(path)} needs a Python newer than 3.8 (or older than 3.14):\n" + "\n".join(problems)


def test_checker_catches_what_breaks_38() -> None:
    def problems(source: str) -> list[str]:
        tree = ast.parse(textwrap.dedent(source))
        checker = _Checker(tree, compat=False)
        checker.visit(tree)
        return checker.problems

    assert problems("""
        from collections.abc import Callable
        import typing
        X = dict[str, int]
        Y = Callable[[int], int]
        def f(a: list[int], b: int | None) -> str | None: ...
        isinstance(1, int | str)
        typing.get_type_hints(f, include_extras=True)
        "x".removeprefix("y")
    """) == [
        "line 4: subscripts builtins.dict in an expression (PEP 585: Python 3.9+; use typing's alias)",
        "line 5: subscripts collections.abc.Callable in an expression (PEP 585: Python 3.9+; use typing's alias)",
        "line 6: subscripts builtins.list in an evaluated annotation (PEP 585: Python 3.9+; use typing's alias)",
        "line 6: uses X | Y on types (PEP 604: Python 3.10+; use typing.Optional/Union)",
        "line 6: uses X | Y on types (PEP 604: Python 3.10+; use typing.Optional/Union)",
        "line 7: uses X | Y on types (PEP 604: Python 3.10+; use typing.Optional/Union)",
        "line 8: uses typing.get_type_hints (use cognix.runtime._compat's)",
        "line 9: calls .removeprefix() (Python 3.9+)",
    ]
    # unevaluated annotations, local variable annotations and data subscripts are fine
    assert problems("""
        from __future__ import annotations
        import os
        from typing import List, Optional
        X = List[int]
        def f(a: list[int], b: int | None) -> dict[str, int] | None:
            y: list[int] = []
            return {os.environ["A"]: 1 | 2}
        z: dict[str, int] = {}
    """) == []


_PROBE = """
import importlib, pathlib, sys
files = [pathlib.Path(p) for p in sys.argv[1:]]
for path in files:
    compile(path.read_text(encoding="utf-8"), str(path), "exec", dont_inherit=True)
from cognix.runtime.shim import install_shim
install_shim()
for path in files:
    parts = path.with_suffix("").relative_to(pathlib.Path.cwd()).parts  # the cwd is the repository
    if parts[:3] == ("cognix", "runtime", "_shim") and len(parts) > 4:
        parts = parts[3:]  # the shim's `cog` package
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if parts[-1] != "__main__":
        importlib.import_module(".".join(parts))
print("ok", len(files))
"""


def test_runtime_compiles_and_imports_on_the_runtime_python() -> None:
    """Every file compiles on the runtime's interpreter (its real grammar) and every module imports there."""
    files = [str(p) for p in runtime_files()]
    env = {"PYTHONPATH": str(REPO), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    result = subprocess.run([RUNTIME_PYTHON, "-c", _PROBE, *files], env=env, capture_output=True, text=True,
                            timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok", str(len(files))]


def test_server_runs_on_the_runtime_python(basic_server) -> None:
    expected = subprocess.run([RUNTIME_PYTHON, "-c", "import platform; print(platform.python_version())"],
                              capture_output=True, text=True, timeout=60).stdout.strip()
    assert basic_server.client.get("/health-check").json()["version"]["python"] == expected


# ---------------------------------------------------------------------------------------------- _compat


def test_function_hints_add_no_implicit_optional() -> None:
    def run(a: str = None, b: Optional[str] = None, c: int = 3) -> Iterator[str]:  # type: ignore[assignment]
        yield ""

    assert _compat.function_type_hints(run) == {"a": str, "b": Optional[str], "c": int, "return": Iterator[str]}


def test_annotated_is_kept() -> None:
    def run(a: _compat.Annotated[List[str], Opaque]) -> str:  # type: ignore[valid-type]
        return ""

    hint = _compat.function_type_hints(run)["a"]
    assert _compat.get_origin(hint) is _compat.Annotated
    assert _compat.get_args(hint) == (List[str], Opaque)


# ---------------------------------------------------------------------------------------------- schema on each version

# Predictors as models written for 3.8 spell them: typing's aliases, Optional/Union, no PEP 585/604 forms.
PREDICTORS = {
    "inputs": '''
        from typing import Any, Dict, List, Optional, Union
        from cog import BasePredictor, File, Input, Path, Secret

        class Predictor(BasePredictor):
            def predict(
                self,
                image: Path = Input(description="Image"),
                images: List[Path] = Input(default=[]),
                prompt: str = Input(description="Prompt", default="a photo", min_length=1, max_length=50),
                style: str = Input(choices=["natural", "vivid"], default="natural"),
                steps: int = Input(ge=1, le=100, default=25),
                ratio: float = Input(ge=0.0, le=1.0, default=0.5),
                seed: int = Input(default=None),
                plain_none: str = None,
                maybe: Optional[str] = None,
                maybe_int: Optional[int] = Input(default=None, description="optional"),
                either: Union[str, int] = Input(description="str or int"),
                tags: List[str] = Input(default=["a"]),
                extra: Dict[str, Any] = Input(default={}),
                doc: File = Input(default=None),
                token: Secret = Input(default=None),
                keys: List[Secret] = Input(default=[]),
                flag: bool = False,
            ) -> Dict[str, Any]:
                return {}
    ''',
    "outputs": '''
        from dataclasses import field
        from typing import Iterator, List, Optional
        from cog import BaseModel, BasePredictor, ConcatenateIterator, Input, Path

        class Item(BaseModel):
            url: Path
            score: float = 0.0
            label: Optional[str] = None
            tags: List[str] = field(default_factory=list)

        class Output(BaseModel):
            items: List[Item]
            caption: str

        class Predictor(BasePredictor):
            def predict(self, n: int = Input(default=1)) -> Output:
                return Output(items=[], caption="")

        class Streamer(BasePredictor):
            def predict(self, prompt: str) -> ConcatenateIterator[str]:
                yield prompt

        class Many(BasePredictor):
            def predict(self) -> Iterator[Path]:
                yield Path("x")

        def train(steps: int = Input(default=10, le=100)) -> List[Path]:
            return []
    ''',
    "annotated": '''
        from typing import List, Optional
        try:
            from typing import Annotated
        except ImportError:  # Python 3.8
            from typing_extensions import Annotated
        from cog import BasePredictor, Input, Opaque

        class Predictor(BasePredictor):
            def predict(
                self,
                payload: Annotated[dict, Opaque] = Input(default={}),
                rows: Annotated[List[dict], Opaque] = Input(description="rows"),
                maybe: Annotated[Optional[dict], Opaque] = None,
                n: Annotated[int, "a plain annotation"] = 2,
            ) -> str:
                return ""
    ''',
    "pydantic": '''
        from typing import List, Optional
        import pydantic
        from cog import BasePredictor

        class Out(pydantic.BaseModel):
            a: int
            b: Optional[str] = None
            c: List[float] = []
            d: Optional[int]

        class Predictor(BasePredictor):
            def predict(self) -> Out:
                return Out(a=1, d=None)
    ''',
}
REFS = {"outputs": ["predict.py:Predictor", "predict.py:Streamer", "predict.py:Many", "train"]}


def _cases() -> Iterator[tuple[str, str]]:
    for name in PREDICTORS:
        for ref in REFS.get(name, ["predict.py:Predictor"]):
            yield name, ref


def _runtime_can_import(module: str) -> bool:
    probe = subprocess.run([RUNTIME_PYTHON, "-c", f"import {module}"], capture_output=True, timeout=60)
    return probe.returncode == 0


@pytest.mark.parametrize(("name", "ref"), list(_cases()), ids=[f"{n}-{r}" for n, r in _cases()])
def test_schema_is_the_same_on_the_runtime_python(tmp_path: Path, name: str, ref: str) -> None:
    if name == "pydantic" and not (_compat_import("pydantic") and _runtime_can_import("pydantic")):
        pytest.skip("pydantic is not installed on both interpreters")
    (tmp_path / "predict.py").write_text(textwrap.dedent(PREDICTORS[name]))
    if ref == "train":
        train = load_runner("predict.py:train", mode="train", cwd=tmp_path)
        here = openapi_schema(load_runner("predict.py:Predictor", cwd=tmp_path), train)
        args = ["--predict", "predict.py:Predictor", "--train", "predict.py:train"]
    else:
        here = openapi_schema(load_runner(ref, cwd=tmp_path), None)
        args = ["--predict", ref]
    env = {"PYTHONPATH": str(REPO), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    result = subprocess.run([RUNTIME_PYTHON, "-m", "cognix.runtime.schema", *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    there = json.loads(result.stdout)
    assert there == here
    assert list(there["components"]["schemas"]) == list(here["components"]["schemas"])


def _compat_import(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------------------------- weights pull

def test_weights_pull_smoke(tmp_path: Path) -> None:
    """pull_weights end to end against a plain local HTTP server (it ignores Range), on this interpreter: the
    in-process run of test_runtime_pythons.py covers each Python and httpx version (tests/weights needs 3.11)."""
    import hashlib
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from cognix.runtime.weights_pull import pull_weights

    served = tmp_path / "served"
    served.mkdir()
    data = os.urandom(300_000)
    (served / "blob").write_bytes(data)

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(served), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sha = hashlib.sha256(data).hexdigest()
        dest = tmp_path / "model" / "w.bin"
        manifest = tmp_path / "weights.json"
        manifest.write_text(json.dumps({"version": 1, "files": [
            {"dest": str(dest), "sha256": sha, "size": len(data), "url": f"http://127.0.0.1:{server.server_port}/blob"},
        ]}))
        logs: list = []
        pull_weights(manifest, logs.append, cache_dir=tmp_path / "cache", jobs=2)
        assert dest.read_bytes() == data and (tmp_path / "cache" / sha).exists()
        dest.unlink()
        (served / "blob").unlink()  # a second pull uses the cache only
        pull_weights(manifest, logs.append, cache_dir=tmp_path / "cache", jobs=2)
        assert dest.read_bytes() == data
        assert any("1 cached, 0 to fetch" in line for line in logs), logs
    finally:
        server.shutdown()
