"""cog.yaml read within bounds: its size before it is read, its values and nesting while PyYAML composes them, the
expansion of its aliases, the tags it may use, and the text of every scalar (no control characters, no lone
surrogates, numbers that construct), each refused with its location before anything walks the data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from cognix.errors import ConfigError

if TYPE_CHECKING:
    from cognix.config.loader import Source

FIX = "edit cog.yaml: each line above names the place and the problem"

_FIX_SIZE = "keep data (weights, long prompts, lists of files) in files of their own and name them from cog.yaml"
MAX_CONFIG_BYTES = 128 << 10  # real ones are a few KiB
# YAML parsing is pure Python and costs per value (~35 us each, written densely as `[a,a,a,...]`): this bound, not
# the byte size, keeps the worst 128 KiB answered in well under a second. Real files have a few hundred.
MAX_CONFIG_NODES = 10_000  # values (keys, items, scalars, aliases) as written
# values (keys, items, scalars) once aliases are expanded: each costs ~8 us to check and validate, more when it is
# wrong (20000 wrong ones: 0.2 s)
MAX_CONFIG_VALUES = 20_000
MAX_CONFIG_DEPTH = 32  # nesting; real files need fewer than 8, and PyYAML's composer recurses per level
_MAX_NUMBER = 100  # characters of an integer: int() refuses past 4300 digits, and no cog.yaml value needs 100
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0, DEL and C1 controls (not tab/newline/CR)
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # from a "\\ud800" escape: no UTF-8 file or lock can hold one
_Y = "tag:yaml.org,2002:"
MERGE_TAG = f"{_Y}merge"  # `<<: *base`
# What cog.yaml holds: no !!binary (it would carry bytes past the control-character check), no !!set (its order
# changes from run to run), no !!timestamp (read as text, below), no application tags.
_NODE_TAGS = {yaml.ScalarNode: {f"{_Y}{t}" for t in ("str", "int", "float", "bool", "null", "merge")},
              yaml.SequenceNode: {f"{_Y}seq"}, yaml.MappingNode: {f"{_Y}map"}}
_TYPED = (f"{_Y}int", f"{_Y}float", f"{_Y}bool", f"{_Y}null")  # plain scalars read as something other than text
_CONSTRUCTED = _TYPED[:3]  # those whose construction can fail


def read_text(path: Path, filename: str, fix: str) -> str:
    """The file as text: refused past MAX_CONFIG_BYTES before it is read, and located where it is not UTF-8."""
    try:
        size = path.stat().st_size
        if size <= MAX_CONFIG_BYTES:
            with path.open("rb") as file:
                raw = file.read(MAX_CONFIG_BYTES + 1)  # no more: it may have grown since the stat
            size = max(size, len(raw))
    except OSError as err:
        raise ConfigError([f"{filename}: cannot read the file ({err.__class__.__name__})"], fix=fix) from None
    if size > MAX_CONFIG_BYTES:
        raise ConfigError([f"{filename}: the file is {size} bytes; a cog.yaml may be at most "
                           f"{MAX_CONFIG_BYTES // 1024} KiB"], fix=_FIX_SIZE)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line_start = raw.rfind(b"\n", 0, err.start) + 1
        line = raw.count(b"\n", 0, err.start) + 1
        column = len(raw[line_start:err.start].decode("utf-8")) + 1  # valid up to err.start
        raise ConfigError([f"{filename}:{line}:{column}: not UTF-8 text (byte 0x{raw[err.start]:02x})"],
                          fix=f"save {filename} as UTF-8") from None


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses, while composing, more than MAX_CONFIG_NODES values and more than MAX_CONFIG_DEPTH
    levels (so the parse stays bounded in time and in Python's stack), and reads timestamps as text: Cog (Go's
    yaml.v3 into string fields) does, and a date-like `2001-13-45` would fail to construct."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != f"{_Y}timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, text: str, source: Source) -> None:
        super().__init__(text)
        self.source = source
        self.nodes = 0
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.nodes += 1
        self.depth += 1
        try:
            if self.nodes > MAX_CONFIG_NODES:
                raise _refusal(self.source, self.peek_event().start_mark, f"more than {MAX_CONFIG_NODES} values "
                               "(keys, list items, scalars); a cog.yaml has a few hundred", _FIX_SIZE)
            if self.depth > MAX_CONFIG_DEPTH:
                raise _too_deep(self.source, self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _refusal(source: Source, mark: yaml.Mark, what: str, fix: str) -> ConfigError:
    line, column = mark_of(mark)
    return ConfigError([f"{source.filename}:{line}:{column}: {what}"], fix=fix)


def _too_deep(source: Source, mark: yaml.Mark) -> ConfigError:
    return _refusal(source, mark, f"nested more than {MAX_CONFIG_DEPTH} levels deep",
                    "write the lists and mappings out flat, as Cog's documentation shows them")


def check_nodes(root: yaml.Node, loader: BoundedLoader) -> None:
    """Refuse, before anything walks the data, a document whose aliases expand past MAX_CONFIG_VALUES values (an
    alias bomb: a few lines that stand for billions) or MAX_CONFIG_DEPTH levels, tags cog.yaml has no use for, and
    scalars _check_scalar refuses. Mapping keys become text (`1:`, `yes:` are the keys "1", "yes", as in Cog).
    Iterative: the walk itself must stay bounded."""
    source = loader.source
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]  # depth 0: leaving the node
    on_path: set[int] = set()  # the nodes being walked, to tell an alias that contains itself
    seen = 0
    while stack:
        node, depth = stack.pop()
        if depth == 0:
            on_path.discard(id(node))
            continue
        if id(node) in on_path:
            raise ConfigError([f"{source.filename}: invalid YAML: an alias refers to itself"],
                              fix=FIX.replace("cog.yaml", source.filename))
        seen += 1
        if seen > MAX_CONFIG_VALUES:
            raise ConfigError([f"{source.filename}: its aliases (*name) expand to more than {MAX_CONFIG_VALUES} "
                               "values"], fix="write the values out, or use fewer, smaller aliases")
        if depth > MAX_CONFIG_DEPTH:
            raise _too_deep(source, node.start_mark)
        if node.tag not in _NODE_TAGS[type(node)]:
            tag = "!!" + node.tag.removeprefix(_Y) if node.tag.startswith(_Y) else node.tag
            raise _refusal(source, node.start_mark, f"the YAML tag {tag} is not accepted: cog.yaml holds text, "
                           "numbers, true/false, lists and mappings", "remove the tag")
        if isinstance(node, yaml.ScalarNode):
            _check_scalar(node, loader)
            continue
        on_path.add(id(node))
        stack.append((node, 0))
        if isinstance(node, yaml.MappingNode):
            for key, _value in node.value:
                if key.tag in _TYPED:  # keys are text, as in Cog, so never constructed (`0x_:` would fail)
                    key.tag = f"{_Y}str"
        children = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) \
            else node.value
        stack.extend((child, depth + 1) for child in children)


def _check_scalar(node: yaml.ScalarNode, loader: BoundedLoader) -> None:
    """No control characters (a NUL in a command or an environment value cannot reach a process) or lone
    surrogates (no UTF-8 file holds one: writing the lock would fail), and numbers that construct: PyYAML's
    patterns take `0x_` for an integer that int() then refuses, and int() refuses 4300 digits and more."""
    source = loader.source
    if bad := _CONTROL.search(node.value) or _SURROGATE.search(node.value):
        what = "lone surrogate" if _SURROGATE.match(bad.group()) else "control character"
        raise _refusal(source, node.start_mark, f"{what} U+{ord(bad.group()):04X} in {node.value[:40]!r}",
                       f"remove it: commands, paths and environment values cannot hold a {what}")
    if node.tag not in _CONSTRUCTED:
        return
    if len(node.value) > _MAX_NUMBER:
        raise _refusal(source, node.start_mark, f"a number {len(node.value)} characters long; no cog.yaml value "
                       "is one", "quote it if it is text")
    try:
        loader.construct_object(node)
    except (ValueError, KeyError):
        raise _refusal(source, node.start_mark, f"{node.value!r} is not a valid {node.tag.removeprefix(_Y)}",
                       "quote it if it is text") from None


def mark_of(mark: yaml.Mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)
