"""The model's source tree, filtered by .dockerignore (Docker's semantics, `!` negation included)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

# Never part of /src: VCS data, the build's own output, the lock, bytecode caches, generated .cog data.
ALWAYS_EXCLUDED = [".git", "result", "lock.json", "**/__pycache__", "**/*.pyc", ".cog"]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = pattern.find("]", i)
            if end == -1:
                out += re.escape(c)
            else:
                cls = pattern[i + 1 : end]
                if cls.startswith("^"):
                    cls = "!" + cls[1:]
                out += "[" + ("^" + cls[1:] if cls.startswith("!") else cls) + "]"
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + "$")


def parse_dockerignore(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """(negated, regex) per pattern line, in file order."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated:
            line = line[1:].strip()
        line = os.path.normpath(line).lstrip("/") if line else line
        if not line or line == ".":
            continue
        rules.append((negated, _pattern_regex(line)))
    return rules


def is_excluded(rel: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent directories decides."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negated, regex in rules:
        if any(regex.match(p) for p in prefixes):
            excluded = not negated
    return excluded


def source_files(model_dir: Path) -> list[str]:
    """Relative posix paths of the files (and symlinks) that go into /src, sorted."""
    ignore = model_dir / ".dockerignore"
    rules = parse_dockerignore(ignore.read_text() if ignore.is_file() else "")
    always = parse_dockerignore("\n".join(ALWAYS_EXCLUDED))
    found = []
    for dirpath, dirs, files in os.walk(model_dir):
        rel_dir = os.path.relpath(dirpath, model_dir)
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirs[:] = [d for d in dirs if not is_excluded(rel_dir + d, always)]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
            rel = rel_dir + name
            if not is_excluded(rel, always) and not is_excluded(rel, rules):
                found.append(rel)
    return sorted(found)


def copy_source(model_dir: Path, files: list[str], tree: Path, dest: str = "src") -> None:
    for rel in files:
        src = model_dir / rel
        target = tree / dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), target)
        else:
            shutil.copyfile(src, target)
            os.chmod(target, 0o755 if os.access(src, os.X_OK) else 0o644)
