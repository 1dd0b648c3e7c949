"""A model's Python requirements: python_packages or the python_requirements file, -r includes, index options."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from cognix.config.loader import Source, format_path
from cognix.config.model import CogConfig
from cognix.errors import ConfigError

_COMMENT = re.compile(r"(^|\s+)#.*$")
# Per-requirement options the lock makes redundant (it pins its own hashes).
_PER_REQUIREMENT = re.compile(r"\s+--(hash|config-settings|global-option|install-option)\b.*$")
# Index options written after a requirement on its line ("torch==1.11.0 --extra-index-url=URL", as Cog models do in
# python_packages): Cog splits them off and honours them (pip would silently ignore them there).
_INLINE_INDEX = re.compile(r"\s+(--extra-index-url|--index-url|-i|--find-links|-f)(?:=|\s+)(\S+)")
# pip-compile's output with every hash is at most a few hundred KiB; this only bounds what a wrong name reads.
MAX_REQUIREMENTS_BYTES = 8 << 20
_ARCHIVE = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
# Option spellings -> what they mean; values are taken as `-i URL`, `-iURL`, `--index-url URL`, `--index-url=URL`.
_VALUE_OPTIONS = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
    "-e": "editable",
    "--editable": "editable",
    "-i": "index_url",
    "--index-url": "index_url",
    "--extra-index-url": "extra_index_url",
    "-f": "find_links",
    "--find-links": "find_links",
    "--only-binary": "pass",
    "--no-binary": "pass",
    "--trusted-host": "pass",
}
_FLAG_OPTIONS = ("--pre", "--prefer-binary", "--no-index", "--require-hashes")


@dataclass(frozen=True)
class Requirements:
    """Requirement specifier lines (markers and extras kept) and the index options that came with them."""

    lines: list[str] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    # Other resolver options as written (e.g. "--pre", "--only-binary :all:"), for the lock stage to honour.
    options: list[str] = field(default_factory=list)


@dataclass
class _Collector:
    model_dir: Path
    lines: list[str] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def display(self, path: Path) -> str:
        """A path as users wrote it: relative to the model directory, never a host path."""
        return Path(os.path.relpath(path, self.model_dir)).as_posix()

    def add_line(self, text: str, where: str, base: Path, stack: tuple[Path, ...]) -> None:
        """One logical requirements line; where is its `file:L:C` (or cog.yaml location and key path)."""
        text = _COMMENT.sub("", text).strip()
        if not text:
            return
        if text.startswith("-"):
            self._option(text, where, base, stack)
            return
        for match in _INLINE_INDEX.finditer(text):
            self._option(f"{match.group(1)} {match.group(2)}", where, base, stack)
        spec = _PER_REQUIREMENT.sub("", _INLINE_INDEX.sub("", text)).strip()
        if not _looks_like_path(spec):
            try:
                Requirement(spec)
            except InvalidRequirement as err:
                first = str(err).splitlines()[0]
                self.problems.append(f"{where}: invalid requirement {spec!r}: {first}")
                return
        _append_unique(self.lines, spec)

    def _option(self, text: str, where: str, base: Path, stack: tuple[Path, ...]) -> None:
        match = re.match(r"^(--[A-Za-z0-9-]+|-[A-Za-z])(?:=|\s+)?(.*)$", text)
        name, value = (match.group(1), match.group(2).strip()) if match else (text, "")
        if name in _FLAG_OPTIONS:
            if value:
                self.problems.append(f"{where}: {name}: takes no value, got {value!r}")
            else:
                _append_unique(self.options, name)
            return
        kind = _VALUE_OPTIONS.get(name)
        if kind is None:
            self.problems.append(f"{where}: {name}: unsupported option in requirements")
            return
        if not value:
            self.problems.append(f"{where}: {name}: needs a value")
            return
        if kind == "requirement":
            self.read_file(base / value, where, f"{name} {value}", stack)
        elif kind == "constraint":
            message = "constraints files are not supported; pin versions in the requirements"
            self.problems.append(f"{where}: {name}: {message}")
        elif kind == "editable":
            self.problems.append(f"{where}: {name}: editable installs are not supported in an image")
        elif kind == "index_url":
            self.index_url = value  # as with pip, the last one wins
        elif kind == "extra_index_url":
            _append_unique(self.extra_index_urls, value)
        elif kind == "find_links":
            _append_unique(self.find_links, value)
        else:
            _append_unique(self.options, f"{name} {value}")

    def read_file(self, path: Path, where: str, what: str, stack: tuple[Path, ...]) -> None:
        """Read a requirements file; problems reading it are located at `where` (the line that names it)."""
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError, ValueError) as err:  # a name too long, a loop of links (3.11), a NUL
            self.problems.append(f"{where}: {what}: cannot read {self.display(path)!r}: {err.__class__.__name__}")
            return
        if resolved in stack:
            self.problems.append(f"{where}: {what}: includes itself (through {self.display(stack[-1])})")
            return
        if not resolved.is_relative_to(self.model_dir.resolve()):  # Cog's build context is the model directory
            self.problems.append(f"{where}: {what}: {self.display(path)!r} is outside the model directory; "
                                 "requirements files must be inside it, as in Cog's build context")
            return
        text = self._text(path, f"{where}: {what}: cannot read {self.display(path)!r}")
        if text is None:
            return
        name = self.display(path)
        for number, line in _logical_lines(text):
            column = len(line) - len(line.lstrip()) + 1
            self.add_line(line, f"{name}:{number}:{column}", path.parent, (*stack, resolved))

    def _text(self, path: Path, cannot: str) -> str | None:
        """A requirements file's text, or None with the problem recorded. Only a regular file, and a bounded one:
        a FIFO or /dev/zero named here would never finish reading."""
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                self.problems.append(f"{cannot}: not a regular file")
                return None
            if info.st_size > MAX_REQUIREMENTS_BYTES:
                self.problems.append(f"{cannot}: it is {info.st_size} bytes; a requirements file may be at most "
                                     f"{MAX_REQUIREMENTS_BYTES >> 20} MiB")
                return None
            with path.open("rb") as file:
                return file.read(MAX_REQUIREMENTS_BYTES).decode("utf-8")
        except FileNotFoundError:
            self.problems.append(f"{cannot}: no such file")
        except (OSError, ValueError) as err:  # ValueError: a NUL in the name, or not UTF-8
            self.problems.append(f"{cannot}: {err.__class__.__name__}")
        return None


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):  # a name too long: read_file says so
        return False


def _append_unique(items: list[str], value: str) -> None:
    if value not in items:
        items.append(value)


def _looks_like_path(spec: str) -> bool:
    """Local archives and bare URLs are kept as written (pip accepts them; PEP 508 does not)."""
    if "@" in spec.split("/", 1)[0]:
        return False  # "name @ url" is a PEP 508 requirement
    return "://" in spec or spec.startswith((".", "/")) or "/" in spec or spec.lower().endswith(_ARCHIVE)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined, numbered by their first physical line."""
    result: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if pending:
            line = line.lstrip()
        if line.endswith("\\") and not _COMMENT.search(line):
            pending += line[:-1].rstrip() + " "
            continue
        result.append((start, pending + line))
        pending = ""
    if pending:
        result.append((start, pending))
    return result


def requirements_of(model_dir: Path, config: CogConfig) -> Requirements:
    """The model's requirements from python_packages or python_requirements; ConfigError (located) on bad input."""
    model_dir = Path(model_dir)
    source: Source = config._source or Source("cog.yaml")
    collector = _Collector(model_dir)
    build = config.build
    if build.python_packages is not None:
        for i, item in enumerate(build.python_packages):
            path = ("build", "python_packages", i)
            collector.add_line(item, f"{source.locate(path)}: {format_path(path)}", model_dir, ())
        # Cog v0.0.5 to v0.0.18 passed these to pip with python_packages (and only then: see compat.py).
        for key, option in (("python_find_links", "--find-links"), ("python_extra_index_urls", "--extra-index-url")):
            for i, url in enumerate(getattr(build, key)):
                path = ("build", key, i)
                collector.add_line(f"{option} {url}", f"{source.locate(path)}: {format_path(path)}", model_dir, ())
    elif build.python_requirements is not None:
        path = ("build", "python_requirements")
        where = f"{source.locate(path)}: {format_path(path)}"
        target = model_dir / build.python_requirements
        if _is_dir(target):
            collector.problems.append(f"{where}: {build.python_requirements!r} is a directory, not a requirements file")
        else:
            collector.read_file(target, source.locate(path), format_path(path), ())
    if collector.problems:
        raise ConfigError(collector.problems, fix="fix the requirements at the places named above")
    return Requirements(
        lines=collector.lines,
        index_url=collector.index_url,
        extra_index_urls=collector.extra_index_urls,
        find_links=collector.find_links,
        options=collector.options,
    )
