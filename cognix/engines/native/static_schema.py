"""The OpenAPI schema from predict.py's source, without importing the model's dependencies (as recent Cog
versions generate it statically), where that is sound; None where it can't decide, and the build imports the model
inside the image as before.

How: a *stub* of the runner's file keeps what the schema is made of (imports from cog, typing, collections, pathlib and enum;
module-level constants; classes and functions with their signatures, annotations, defaults and docstrings, bodies
replaced by `...`) and drops the rest; the runtime's own schema generator (`python -m cognix.runtime.schema`, the
in-image step's code) then runs on the stub with the cog shim. So both paths share one generator, and the stub
path is taken only when it gives what the import would:
- the file parses, and no dropped statement binds a name the stub uses (a later `Path = ...`, an import used in an
  annotation or default: those make the stub fail to import, or are refused here);
- a runner method's decorators are cog's (`@streaming`) or known to keep the signature (`torch.inference_mode()`,
  `torch.no_grad()`); any other could change what the import sees;
- the model does not lock upstream cog (its Input/BaseModel may differ from the shim's) and targets Python >= 3.10
  (older ones refuse annotations such as `list[str]` or `X | None` that this interpreter accepts).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cognix.runtime.predictor import decorator_name, parse_ref

KEPT_MODULES = frozenset({"__future__", "cog", "typing", "typing_extensions", "collections", "pathlib", "enum"})
# decorators that keep a method's signature (functools.wraps): the import sees what the stub sees
SIGNATURE_KEEPING = frozenset({"inference_mode", "no_grad", "enable_grad", "streaming"})
SCHEMA_TIMEOUT_S = 60


class _Undecidable(Exception):
    pass


def _root(module: str | None) -> str:
    return (module or "").split(".")[0]


def _literal(node: ast.expr | None) -> bool:
    if node is None:
        return True
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return False
    return True


def _bound(node: ast.stmt) -> set[str]:
    """The names a module-level statement binds."""
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in sub.names}
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and sub is node:
            names.add(sub.name)
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
    return names


def _used(nodes: list[ast.stmt]) -> set[str]:
    return {n.id for stmt in nodes for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _stub_function(fn: ast.FunctionDef | ast.AsyncFunctionDef, *, runner: bool) -> ast.stmt:
    kept_decorators = []
    for deco in fn.decorator_list:
        name = decorator_name(deco)
        if name == "streaming" or name in ("staticmethod", "classmethod"):
            kept_decorators.append(deco)
        elif runner and name not in SIGNATURE_KEEPING:
            raise _Undecidable(f"decorator @{ast.unparse(deco)} on {fn.name}")
    doc = ast.get_docstring(fn, clean=False)
    body: list[ast.stmt] = [ast.Expr(ast.Constant(doc))] if doc is not None else []
    if _is_generator(fn):
        # a generator (or async generator) stays one: the runner's streaming output depends on it
        body.append(ast.parse("if False:\n    yield None").body[0])
    body.append(ast.Expr(ast.Constant(...)))
    fn.decorator_list = kept_decorators
    fn.body = body
    return fn


def _is_generator(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    def walk(node: ast.AST):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue  # a nested definition's yield is its own
            if isinstance(child, (ast.Yield, ast.YieldFrom)):
                yield child
            yield from walk(child)

    return any(True for _ in walk(fn))


def _stub_class(cls: ast.ClassDef, runner: bool) -> ast.ClassDef:
    if cls.decorator_list:
        raise _Undecidable(f"class decorator on {cls.name}")
    body: list[ast.stmt] = []
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body.append(_stub_function(stmt, runner=runner))
        elif isinstance(stmt, ast.AnnAssign) and _literal(stmt.value):
            body.append(stmt)
        elif isinstance(stmt, ast.Assign) and _literal(stmt.value):
            body.append(stmt)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            body.append(stmt)  # the docstring
        elif isinstance(stmt, ast.ClassDef):
            body.append(_stub_class(stmt, runner=False))
        elif isinstance(stmt, ast.Pass):
            continue
        else:
            raise _Undecidable(f"statement in class {cls.name} at line {stmt.lineno}")
    cls.body = body or [ast.Pass()]
    return cls


def make_stub(source: str, runner_names: set[str]) -> str | None:
    """The stub of a runner file (see the module's docstring); None when the schema can't be decided from it."""
    try:
        tree = ast.parse(source)
        kept: list[ast.stmt] = []
        dropped: set[str] = set()
        for stmt in tree.body:
            if isinstance(stmt, ast.Import) and all(_root(a.name) in KEPT_MODULES for a in stmt.names):
                kept.append(stmt)
            elif isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and _root(stmt.module) in KEPT_MODULES:
                kept.append(stmt)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and _literal(stmt.value):
                kept.append(stmt)
            elif isinstance(stmt, ast.ClassDef):
                kept.append(_stub_class(stmt, runner=stmt.name in runner_names))
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                kept.append(_stub_function(stmt, runner=stmt.name in runner_names))
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                kept.append(stmt)
            else:
                dropped |= _bound(stmt)
        used = _used(kept)
        clash = dropped & used
        if clash:
            raise _Undecidable(f"names bound by statements the stub leaves out: {sorted(clash)}")
        stubbed = {s.name for s in kept if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
        if stubbed & used:  # a function called for a default or a constant: its stub would give another value
            raise _Undecidable(f"functions used outside function bodies: {sorted(stubbed & used)}")
        return ast.unparse(ast.Module(body=kept, type_ignores=[])) + "\n"
    except (_Undecidable, SyntaxError, ValueError, RecursionError):
        return None


def runner_stubs(model_dir: Path, refs: dict[str, str], *, python_version: str,
                 locks_upstream_cog: bool) -> dict[str, str] | None:
    """{runner file (relative): its stub} for every runner the refs name; None when the schema can't be decided."""
    major, _, rest = python_version.partition(".")
    minor = rest.split(".")[0]
    if locks_upstream_cog or not refs or not (major.isdigit() and minor.isdigit()) \
            or (int(major), int(minor)) < (3, 10):
        return None
    stubs: dict[str, str] = {}
    for ref in refs.values():
        file_part, _name = parse_ref(ref)
        if Path(file_part).is_absolute() or ".." in Path(file_part).parts:
            return None
        try:
            source = (model_dir / file_part).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        names = {n for r in refs.values() for f, n in [parse_ref(r)] if f == file_part and n}
        stub = make_stub(source, names or {"Predictor", "Runner", "predict", "run", "train"})
        if stub is None:
            return None
        stubs[file_part] = stub
    return stubs


def static_schema(model_dir: Path, refs: dict[str, str], *, python_version: str,
                  locks_upstream_cog: bool) -> bytes | None:
    """The schema JSON (as `python -m cognix.runtime.schema` prints it) from stubs of the runner files, or None."""
    stubs = runner_stubs(model_dir, refs, python_version=python_version, locks_upstream_cog=locks_upstream_cog)
    return None if stubs is None else schema_from_stubs(stubs, refs)


def schema_from_stubs(stubs: dict[str, str], refs: dict[str, str]) -> bytes | None:
    """Run the runtime's schema generator on the stubs (a fresh interpreter, the cog shim); its JSON, or None."""
    with tempfile.TemporaryDirectory(prefix="cognix-schema-") as tmp:
        for rel, text in stubs.items():
            (Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / rel).write_text(text, encoding="utf-8")
        root = Path(__file__).resolve().parents[3]
        env = {k: v for k, v in os.environ.items() if not k.startswith("COG_")}
        env.update(PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1", HOME=tmp)
        args = [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv.pop(1)); "
                "from cognix.runtime.schema import main; sys.exit(main())", str(root)]
        if "predict" in refs:
            args += ["--predict", refs["predict"]]
        if "train" in refs:
            args += ["--train", refs["train"]]
        try:
            proc = subprocess.run(args, cwd=tmp, env=env, capture_output=True, timeout=SCHEMA_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired):
            return None
    return proc.stdout if proc.returncode == 0 else None
