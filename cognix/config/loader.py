"""Read cog.yaml with node positions, so every problem is one located line: `cog.yaml:L:C: key.path: message`."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from cognix.config.compat import ignored_keys
from cognix.config.model import (
    Build,
    CogConfig,
    Concurrency,
    Mount,
    RunStep,
    WeightSpec,
)
from cognix.config.yaml_bounds import FIX as _FIX
from cognix.config.yaml_bounds import MERGE_TAG, BoundedLoader, check_nodes, mark_of, read_text
from cognix.errors import ConfigError

KeyPath = tuple[str | int, ...]
# Keys whose unquoted YAML numbers must keep their text: `3.10` is Python 3.10, not the float 3.1.
_VERSION_KEYS = ("python_version", "cuda", "cudnn", "sdk_version")


@dataclass(frozen=True)
class Position:
    """1-based line/column of a key (when the value sits under one) and of its value."""

    key: tuple[int, int] | None
    value: tuple[int, int]


@dataclass
class Source:
    """Where a loaded config came from: the file name as given, and each key path's position."""

    filename: str
    positions: dict[KeyPath, Position] = field(default_factory=dict)

    def locate(self, path: KeyPath, *, at_key: bool = False) -> str:
        """`cog.yaml:L:C` for the deepest known part of path (its key or its value)."""
        for n in range(len(path), -1, -1):
            pos = self.positions.get(path[:n])
            if pos is None:
                continue
            line, col = pos.key if (at_key and n == len(path) and pos.key) else pos.value
            return f"{self.filename}:{line}:{col}"
        return self.filename

    def problem(self, path: KeyPath, message: str, *, at_key: bool = False) -> str:
        """One problem line: location, key path, message."""
        where = self.locate(path, at_key=at_key)
        return f"{where}: {format_path(path)}: {message}" if path else f"{where}: {message}"


def format_path(path: KeyPath) -> str:
    """("build", "run", 0, "command") -> "build.run[0].command"."""
    text = ""
    for part in path:
        if isinstance(part, str) and not part.isprintable():
            part = repr(part)  # a BOM or a zero-width space in a key would print as nothing: show it
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


MAX_PROBLEMS = 100  # listed; the rest counted in one line


def load_config(model_dir: Path, filename: str = "cog.yaml") -> CogConfig:
    """Load and validate model_dir/filename; raise ConfigError listing every problem, located."""
    model_dir = Path(model_dir)
    path = model_dir / filename
    if not path.is_file():
        raise ConfigError(
            [f"no {filename} in {model_dir}"],
            fix="run cognix from a Cog project directory (one with a cog.yaml next to predict.py)",
        )
    fix = _FIX.replace("cog.yaml", filename)
    source = Source(filename)
    text = read_text(path, filename, fix)
    problems: list[tuple[tuple[int, int], str]] = []
    data = _parse_located(text, source, problems, fix)

    if not isinstance(data, dict):
        problem = source.problem((), "expected a mapping of keys (build, predict, ...) at the top level")
        raise ConfigError([problem], fix=fix)

    config: CogConfig | None = None
    found: list[tuple[tuple[int, int], str | Callable[[], str]]] = list(problems)
    try:
        config = CogConfig.model_validate(data, context={"model_dir": model_dir})
    except ValidationError as err:
        for e in err.errors():
            loc = tuple(e["loc"])
            at_key = e["type"] in ("extra_forbidden", "cognix", "missing")
            # formatted only if listed: a few aliases can stand for 100000 wrong values
            found.append((_sort_key(source, loc, at_key), partial(_format, source, loc, e, at_key)))
    lines = _listed(found, filename)
    if config is not None:
        config._source = source
        # Surface unreadable requirements files and bad requirement lines now, not at lock time.
        from cognix.config.requirements import requirements_of

        try:
            requirements_of(model_dir, config)
        except ConfigError as err:
            lines += err.problems
    if lines:
        raise ConfigError(lines, fix=fix)
    assert config is not None
    return config


def _format(source: Source, loc: KeyPath, e: Any, at_key: bool) -> str:
    return source.problem(loc, _message(loc, e), at_key=at_key)


def _listed(found: list[tuple[tuple[int, int], str | Callable[[], str]]], filename: str) -> list[str]:
    """The problems in file order, each once (an alias repeats some), at most MAX_PROBLEMS of them."""
    lines: dict[str, None] = {}
    ordered = sorted(found, key=lambda item: item[0])
    for n, (_, problem) in enumerate(ordered):
        if len(lines) == MAX_PROBLEMS:
            lines[f"{filename}: and {len(ordered) - n} more problems"] = None
            break
        lines[problem if isinstance(problem, str) else problem()] = None
    return list(lines)


def _parse_located(text: str, source: Source, problems: list, fix: str) -> Any:
    """_parse, its YAML errors as one located problem each."""
    filename = source.filename
    try:
        return _parse(text, source, problems)
    except RecursionError:  # a safety net: MAX_CONFIG_DEPTH stops nesting before Python's stack runs out
        raise ConfigError([f"{filename}: nested too deeply"], fix=fix) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{filename}:{mark.line + 1}:{mark.column + 1}" if mark else filename
        what = err.problem or err.context or "invalid YAML"
        raise ConfigError([f"{where}: invalid YAML: {what}"], fix=fix) from None
    except yaml.reader.ReaderError as err:
        line = text[: err.position].count("\n") + 1
        column = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        what = f"unacceptable character #x{err.character:04x}" if isinstance(err.character, int) else err.reason
        raise ConfigError([f"{filename}:{line}:{column}: invalid YAML: {what}"], fix=fix) from None
    except yaml.YAMLError as err:
        raise ConfigError([f"{filename}: invalid YAML: {str(err).splitlines()[0]}"], fix=fix) from None


def _sort_key(source: Source, path: KeyPath, at_key: bool) -> tuple[int, int]:
    where = source.locate(path, at_key=at_key).split(":")
    return (int(where[1]), int(where[2])) if len(where) == 3 else (0, 0)


def _parse(text: str, source: Source, problems: list[tuple[tuple[int, int], str]]) -> Any:
    """YAML -> plain data, recording each key path's position and duplicate keys."""
    loader = BoundedLoader(text, source)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        check_nodes(node, loader)
        _walk(node, (), None, source, problems)  # before construction merges `<<: *base` keys into the mappings
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    data = _string_keys(data)
    build = data.get("build") if isinstance(data, dict) else None
    if isinstance(build, dict) and isinstance(node, yaml.MappingNode):
        build_node = _child(node, "build")
        for key in _VERSION_KEYS:
            value = _child(build_node, key) if build_node is not None else None
            if isinstance(value, yaml.ScalarNode) and value.tag.endswith((":int", ":float")):
                build[key] = value.value
    return data


def _string_keys(data: Any) -> Any:
    """Mapping keys as text (`1: x` is the unknown key "1"), matching the recorded positions."""
    if isinstance(data, dict):
        return {str(k): _string_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_string_keys(v) for v in data]
    return data


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    found = None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            found = v
    return found


def _walk(node: yaml.Node, path: KeyPath, key: yaml.Node | None, source: Source, problems: list) -> None:
    source.positions[path] = Position(mark_of(key.start_mark) if key is not None else None, mark_of(node.start_mark))
    if isinstance(node, yaml.MappingNode):
        _walk_pairs(node, path, source, problems, duplicates=True)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), None, source, problems)


def _walk_pairs(node: yaml.MappingNode, path: KeyPath, source: Source, problems: list, *, duplicates: bool) -> None:
    """A mapping's keys. The mappings a merge key (`<<: *base`) brings come first, so the keys written beside it
    take their place (and are no duplicates: overriding them is what `<<` is for)."""
    own = []
    for k, v in node.value:
        if k.tag != MERGE_TAG:
            own.append((k, v))
            continue
        merged = v.value if isinstance(v, yaml.SequenceNode) else [v]
        for mapping in reversed(merged):  # the first one listed wins, as PyYAML merges them
            if isinstance(mapping, yaml.MappingNode):
                _walk_pairs(mapping, path, source, problems, duplicates=False)
    seen: set[str] = set()
    for k, v in own:
        name = str(k.value) if isinstance(k, yaml.ScalarNode) else "?"
        if duplicates and name in seen:
            pos = mark_of(k.start_mark)
            where = f"{source.filename}:{pos[0]}:{pos[1]}"
            problems.append((pos, f"{where}: {format_path((*path, name))}: duplicate key"))
        seen.add(name)
        _walk(v, (*path, name), k, source, problems)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _model_at(path: KeyPath) -> type[BaseModel] | None:
    """The model class validating the mapping at path (for did-you-mean suggestions)."""
    model: type[BaseModel] = CogConfig
    nested = {"build": Build, "concurrency": Concurrency, "weights": WeightSpec, "run": RunStep, "mounts": Mount}
    for part in path:
        if isinstance(part, int):
            continue
        nxt = nested.get(part)
        if nxt is None or part not in model.model_fields:
            return None
        model = nxt
    return model


def _message(loc: KeyPath, e: Any) -> str:
    """A pydantic error as a short sentence in cog.yaml terms."""
    kind, value, msg = e["type"], e.get("input"), e["msg"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        known = sorted(model.model_fields) if model else []
        if model is CogConfig:
            known = sorted([*known, "run"])
        name = str(loc[-1])
        # Keys cognix accepts but ignores are suggested too, though not listed as expected.
        close = difflib.get_close_matches(name, [*known, *ignored_keys(loc[:-1])], n=1, cutoff=0.6)
        if close:
            return f"unknown key; did you mean '{close[0]}'?"
        return f"unknown key; expected one of: {', '.join(known)}" if known else "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind == "cognix":
        return msg
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    expected = {
        "bool_type": "true or false",
        "bool_parsing": "true or false",
        "string_type": "a string",
        "list_type": "a list",
        "int_type": "an integer",
        "int_parsing": "an integer",
        "int_from_float": "an integer",
        "model_type": "a mapping",
        "model_attributes_type": "a mapping",
        "dict_type": "a mapping",
    }.get(kind)
    if expected:
        if loc[-2:-1] == ("run",) and isinstance(loc[-1], int):
            expected = "a string or a mapping {command, mounts}"
        return f"expected {expected}, got {_describe(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    return f"{msg.replace('Input should be', 'should be')}, got {_describe(value)}"
