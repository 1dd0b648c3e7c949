"""gitignore-style globs, as go-gitignore (the matcher Cog's weights include/exclude use) reads them."""

from __future__ import annotations

import re


def gitignore_regex(pattern: str) -> re.Pattern[str] | None:
    """The regex go-gitignore (the matcher Cog's weights include/exclude use) makes of one pattern, matched
    against a file's path relative to the source root: a bare `*.bin` matches at any depth, `onnx/*.bin` only
    directly under onnx/, `**` any number of directories; `?` is a literal `?` there. None for a comment line."""
    line = pattern.rstrip("\r")
    if line.startswith("#"):
        return None
    line = line.strip(" ")
    if not line:
        return None
    if line.startswith("!"):
        line = line[1:]
    if re.match(r"^(#|!)", line):
        line = line[1:]
    if re.search(r"([^/+])/.*\*\.", line) and not line.startswith("/"):
        line = "/" + line
    line = line.replace(".", r"\.")
    magic = "#$~"
    if line.startswith("/**/"):
        line = line[1:]
    line = line.replace("/**/", "(/|/.+/)")
    line = line.replace("**/", "(|." + magic + "/)")
    line = line.replace("/**", "(|/." + magic + ")")
    line = line.replace("\\*", "\\" + magic)
    line = line.replace("*", "([^/]*)")
    line = line.replace("?", r"\?")
    line = line.replace(magic, "*")
    expr = line + ("(|.*)$" if line.endswith("/") else "(|/.*)$")
    expr = "^(|/)" + expr[1:] if expr.startswith("/") else "^(|.*/)" + expr
    return re.compile(expr)


def gitignore_match(patterns: list[str], path: str) -> bool:
    """go-gitignore's MatchesPath for patterns without negation (Cog refuses those)."""
    for p in patterns:
        regex = gitignore_regex(p)
        if regex is not None and regex.search(path):
            return True
    return False
