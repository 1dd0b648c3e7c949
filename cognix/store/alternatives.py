"""Debian's alternatives without dpkg: the `update-alternatives --install` calls of each package's postinst, read
without running the script, and the links dpkg would leave once every package is configured.

The script is read as `postinst configure` on a fresh install would run it, as far as that can be known without
running anything: a small POSIX-shell reader takes quoting, `\\` line continuations, comments, here-documents,
plain variable assignments (`basedir=/usr/lib/jvm/...`, `${x:-y}`), `$1` (= configure), `for NAME in WORDS; do`
loops (imagemagick registers `convert`, `identify`, ... in one) and calls of the script's own shell functions
(debianutils registers `which` in one). Conditionals are taken as if every branch ran
(each `if`, `case` arm, `&&`); a value computed by a command (`$(...)`, backticks) is unknown, and an assignment of
an unknown value keeps a value known before it (it sits in a branch that a fresh install does not take, e.g.
openjdk's priority fix-up for foreign architectures). A call whose link, name, path or priority stays unknown is
skipped with a note; slaves after an unknown word are dropped with a note (xz-utils prints its slaves from a shell
function inside `$(...)`).

The choice is dpkg's automatic mode: among the choices of one name whose path exists in the image, the highest
priority wins; a tie goes to the path sorting first (dpkg keeps the one registered first, which depends on the
order packages are configured in, so cognix fixes one). The winner's slaves whose path exists are linked too. As
update-alternatives does, a link is never put where the image has a file or directory that is not a symlink.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

COMMANDS = ("update-alternatives", "/usr/bin/update-alternatives", "/usr/sbin/update-alternatives")
ALTDIR = "/etc/alternatives"


@dataclass(frozen=True)
class Slave:
    link: str
    name: str
    path: str


@dataclass(frozen=True)
class Install:
    """One `update-alternatives --install LINK NAME PATH PRIORITY [--slave LINK NAME PATH]...`."""

    link: str
    name: str
    path: str
    priority: int
    slaves: tuple[Slave, ...] = ()


@dataclass(frozen=True)
class Chosen:
    """The alternative dpkg's automatic mode leaves: LINK -> /etc/alternatives/NAME -> PATH, and its slaves."""

    name: str
    link: str
    path: str
    priority: int
    package: str  # the package whose postinst registered the winning choice
    slaves: tuple[Slave, ...] = ()

    def links(self) -> list[tuple[str, str]]:
        """(absolute link path, target) pairs, the master's first."""
        out = [(f"{ALTDIR}/{self.name}", self.path), (self.link, f"{ALTDIR}/{self.name}")]
        for s in self.slaves:
            out += [(f"{ALTDIR}/{s.name}", s.path), (s.link, f"{ALTDIR}/{s.name}")]
        return out


class ShellSyntaxError(ValueError):
    pass


# --- a lexer for the POSIX shell's words and operators ------------------------------------------------------------

_OPERATORS = ("&&", "||", ";;", ";", "&", "|", "(", ")")
_REDIRECTS = (">>", ">&", "<&", "<<-", "<<", "<>", ">|", ">", "<")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Tok:
    kind: str  # "word", "op" (including "\n"), "redir"
    text: str  # a word keeps its quotes: expansion needs them


def _skip_balanced(s: str, i: int, open_: str, close: str) -> int:
    """Index after the `close` matching the `open_` just before i (quotes inside respected)."""
    depth = 1
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            end = s.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("unterminated quote")
            i = end + 1
            continue
        if c == '"':
            i = _skip_double(s, i + 1)
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ShellSyntaxError(f"unterminated {open_}")


def _skip_backquote(s: str, i: int) -> int:
    """Index after the backquote closing the command substitution opened at i."""
    end = s.find("`", i + 1)
    if end < 0:
        raise ShellSyntaxError("unterminated backquote")
    return end + 1


def _skip_double(s: str, i: int) -> int:
    """Index after the `"` closing the double-quoted string starting at i."""
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif s.startswith("$(", i):
            i = _skip_balanced(s, i + 2, "(", ")")
        elif c == "`":
            i = _skip_backquote(s, i)
        else:
            i += 1
    raise ShellSyntaxError("unterminated double quote")


def tokenize(script: str) -> list[Tok]:
    s = script
    toks: list[Tok] = []
    heredocs: list[tuple[str, bool]] = []  # (delimiter, strip tabs) waiting for the end of the line
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and s.startswith("\\\n", i):
            i += 2
            continue
        if c in " \t\r":
            i += 1
            continue
        if c == "#":
            end = s.find("\n", i)
            i = len(s) if end < 0 else end
            continue
        if c == "\n":
            toks.append(Tok("op", "\n"))
            i += 1
            for delim, strip in heredocs:  # a here-document's body is text, not commands
                while i < len(s):
                    end = s.find("\n", i)
                    line = s[i:] if end < 0 else s[i:end]
                    i = len(s) if end < 0 else end + 1
                    if (line.lstrip("\t") if strip else line) == delim:
                        break
            heredocs.clear()
            continue
        redir = next((r for r in _REDIRECTS if s.startswith(r, i)), None)
        if redir is not None:
            i += len(redir)
            toks.append(Tok("redir", redir))
            if redir.startswith("<<"):
                j = i
                while j < len(s) and s[j] in " \t":
                    j += 1
                start = j
                word, j = _read_word(s, j)
                if word is None:
                    raise ShellSyntaxError("here-document without a delimiter")
                heredocs.append((word.replace("'", "").replace('"', "").replace("\\", ""), redir == "<<-"))
                toks.append(Tok("word", s[start:j]))
                i = j
            continue
        op = next((o for o in _OPERATORS if s.startswith(o, i)), None)
        if op is not None:
            toks.append(Tok("op", op))
            i += len(op)
            continue
        word, i = _read_word(s, i)
        assert word is not None
        if word.isdigit() and i < len(s) and s[i] in "<>":  # an io number: `2>/dev/null`
            continue
        toks.append(Tok("word", word))
    return toks


def _read_word(s: str, i: int) -> tuple[str | None, int]:
    start = i
    while i < len(s):
        c = s[i]
        if c in " \t\r\n;&|()<>":
            break
        if c == "\\":
            if s.startswith("\\\n", i):  # a continuation inside a word joins it
                i += 2
                continue
            i += 2
        elif c == "'":
            end = s.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("unterminated quote")
            i = end + 1
        elif c == '"':
            i = _skip_double(s, i + 1)
        elif s.startswith("$(", i):
            i = _skip_balanced(s, i + 2, "(", ")")
        elif s.startswith("${", i):
            i = _skip_balanced(s, i + 2, "{", "}")
        elif c == "`":
            i = _skip_backquote(s, i)
        else:
            i += 1
    if i == start:
        return None, i
    return s[start:i].replace("\\\n", ""), i


# --- expansion ----------------------------------------------------------------------------------------------------

class Unknown(Exception):
    """The word's value depends on running something."""


def _param(body: str, env: dict[str, str | None]) -> str:
    """${body} or $body's value; Unknown when it is not known."""
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?])(?:(:?[-+=])(.*))?", body, re.S)
    if m is None:
        raise Unknown(body)
    name, op, word = m.group(1), m.group(2), m.group(3)
    if name in "#?":
        raise Unknown(name)
    value = env.get(name, "")
    if value is None:
        raise Unknown(name)
    if op is None:
        return value
    unset_or_null = value == "" if op.startswith(":") else name not in env
    if op.endswith("-") or op.endswith("="):
        return _expand_text(word, env) if unset_or_null else value
    return "" if unset_or_null else _expand_text(word, env)  # :+ / +


def _expand_text(text: str, env: dict[str, str | None]) -> str:
    """A word inside ${x:-word}, quotes removed, no field splitting."""
    fields = expand(text, env, split=False)
    return fields[0] if fields else ""


def expand(word: str, env: dict[str, str | None], *, split: bool = True) -> list[str]:
    """A shell word's fields after parameter expansion, field splitting and quote removal (no globbing).
    Unknown when it has a command substitution, arithmetic or an unknown variable."""
    fields: list[str] = []
    cur: list[str] = []
    have = False  # the current field exists even if empty ("" or '')
    i = 0
    s = word

    def dollar(at: int, quoted: bool) -> int:
        nonlocal have
        if s.startswith("$(", at) or s.startswith("$((", at):
            raise Unknown("command substitution")
        if s.startswith("${", at):
            end = _skip_balanced(s, at + 2, "{", "}")
            value = _param(s[at + 2:end - 1], env)
        else:
            m = _NAME.match(s, at + 1) or re.compile(r"[0-9@*#?$!-]").match(s, at + 1)
            if m is None:
                cur.append("$")
                return at + 1
            end = m.end()
            value = _param(m.group(0), env)
        if quoted or not split:
            cur.append(value)
            have = True
        else:
            parts = value.split()
            if value[:1].isspace() and (cur or have):
                fields.append("".join(cur))
                cur.clear()
                have = False
            for k, part in enumerate(parts):
                if k:
                    fields.append("".join(cur))
                    cur.clear()
                cur.append(part)
                have = True
            if value[-1:].isspace() and parts:
                fields.append("".join(cur))
                cur.clear()
                have = False
        return end

    while i < len(s):
        c = s[i]
        if c == "\\":
            cur.append(s[i + 1:i + 2])
            have = True
            i += 2
        elif c == "'":
            end = s.index("'", i + 1)
            cur.append(s[i + 1:end])
            have = True
            i = end + 1
        elif c == '"':
            have = True
            i += 1
            while s[i] != '"':
                if s[i] == "\\" and s[i + 1] in '$`"\\\n':
                    cur.append(s[i + 1])
                    i += 2
                elif s[i] == "$":
                    i = dollar(i, True)
                elif s[i] == "`":
                    raise Unknown("command substitution")
                else:
                    cur.append(s[i])
                    i += 1
            i += 1
        elif c == "$":
            i = dollar(i, False)
        elif c == "`":
            raise Unknown("command substitution")
        else:
            cur.append(c)
            have = True
            i += 1
    if cur or have:
        fields.append("".join(cur))
    return fields


# --- the reader ---------------------------------------------------------------------------------------------------

_SKIP_FIRST = {"if", "then", "elif", "else", "fi", "do", "done", "{", "}", "!", "esac", "while", "until"}


def _commands(toks: list[Tok]) -> list[list[Tok]]:
    """Simple commands (words and redirections), split at operators; `(`, `)` and newlines end one too."""
    out: list[list[Tok]] = []
    cur: list[Tok] = []
    for tok in toks:
        if tok.kind == "op":
            if cur:
                out.append(cur)
            cur = []
            if tok.text in ("(", ")"):
                out.append([tok])
        else:
            cur.append(tok)
    if cur:
        out.append(cur)
    return out


def _words(cmd: list[Tok]) -> list[str]:
    """The words of a command, redirections and their targets left out."""
    out, skip = [], False
    for tok in cmd:
        if skip:
            skip = False
        elif tok.kind == "redir":
            skip = True
        else:
            out.append(tok.text)
    return out


class _Reader:
    def __init__(self) -> None:
        self.env: dict[str, str | None] = {"1": "configure", "@": "configure", "*": "configure"}
        self.calls: list[list[str] | tuple[list[str], str]] = []  # expanded argv, or (known prefix, why cut)
        self.notes: list[str] = []
        self.functions: dict[str, list[list[Tok]]] = {}
        self.depth = 0

    def run(self, cmds: list[list[Tok]]) -> None:
        i = 0
        while i < len(cmds):
            i = self.step(cmds, i)

    def step(self, cmds: list[list[Tok]], i: int) -> int:
        cmd = cmds[i]
        if cmd[0].kind == "op":  # `(` / `)` of a subshell or a case pattern
            return i + 1
        words = _words(cmd)
        # a function definition: NAME ( ) { ... } -- its body is read when the script calls it
        if len(words) == 1 and i + 2 < len(cmds) and cmds[i + 1][0].text == "(" and cmds[i + 2][0].text == ")":
            return self._define(cmds, i + 3, words[0])
        while words and words[0] in _SKIP_FIRST:
            words = words[1:]
        if not words:
            return i + 1
        if words[0] == "case":  # `case WORD in` [pattern) ...]: every arm is read
            return i + 1
        if words[0] == "for":
            return self._for(cmds, i, words)
        assignments = []
        while words and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            assignments.append(words.pop(0))
        if not words:
            for a in assignments:
                self._assign(a)
            return i + 1
        name, args = words[0], words[1:]
        if name in ("export", "local", "readonly"):
            for a in args:
                if re.match(r"[A-Za-z_][A-Za-z0-9_]*=", a):
                    self._assign(a)
        elif name == "unset":
            for a in args:
                if _NAME.fullmatch(a):
                    self.env[a] = ""
        elif name in COMMANDS:
            self._call(args)
        elif name in self.functions:
            self._invoke(name, args)
        return i + 1

    def _assign(self, word: str) -> None:
        name, _, value = word.partition("=")
        try:
            fields = expand(value, self.env, split=False)
            self.env[name] = fields[0] if fields else ""
        except (Unknown, ValueError, IndexError):
            if self.env.get(name) in (None, ""):  # a known value survives an unknown one (see the module doc)
                self.env[name] = None

    def _call(self, args: list[str]) -> None:
        argv: list[str] = []
        for raw in args:
            try:
                argv += expand(raw, self.env)
            except (Unknown, ValueError, IndexError) as why:
                shown = raw.splitlines()[0][:60] + ("..." if len(raw) > 60 or "\n" in raw else "")
                self.calls.append((argv, f"`{shown}` is computed by the script ({why})"))
                return
        self.calls.append(argv)

    def _define(self, cmds: list[list[Tok]], i: int, name: str) -> int:
        """Record the `{ ... }` body of a function definition starting at cmds[i]; returns the index past it."""
        depth, k = 0, i
        while k < len(cmds):
            first = _first(cmds[k])
            depth += (first == "{") - (first == "}")
            k += 1
            if depth <= 0:
                break
        body = [c for c in cmds[i:k] if c and _first(c) not in ("{", "}")]
        if cmds[i:i + 1] and _first(cmds[i]) == "{":  # `{ cmd` on one line: the brace is a word of the command
            body = [c for c in [cmds[i][1:], *cmds[i + 1:k]] if c and _first(c) not in ("{", "}")]
        self.functions[name] = body
        return k

    def _invoke(self, name: str, args: list[str]) -> None:
        """A call of a function defined in the script: its body read with the call's arguments as $1, $2, ..."""
        if self.depth >= 8:
            return
        try:
            argv = [f for raw in args for f in expand(raw, self.env)]
        except (Unknown, ValueError, IndexError):
            argv = None
        saved = {k: v for k, v in self.env.items() if k.isdigit() or k in "@*"}
        for k in list(saved):
            del self.env[k]
        if argv is None:
            self.env.update({"1": None, "@": None, "*": None})
        else:
            self.env.update({str(n): a for n, a in enumerate(argv, 1)})
            self.env["@"] = self.env["*"] = " ".join(argv)
        self.depth += 1
        try:
            self.run(self.functions[name])
        finally:
            self.depth -= 1
            for k in [k for k in self.env if k.isdigit() or k in "@*"]:
                del self.env[k]
            self.env.update(saved)

    def _for(self, cmds: list[list[Tok]], i: int, words: list[str]) -> int:
        """`for NAME [in WORDS]` then `do ... done`: the body read once per word (once, NAME unknown, when the
        words are)."""
        var = words[1] if len(words) > 1 else ""
        items = words[3:] if len(words) > 2 and words[2] == "in" else ['"$@"']
        start = i + 1
        if start >= len(cmds) or _first(cmds[start]) != "do":
            return i + 1
        depth, k = 0, start
        while k < len(cmds):
            first = _first(cmds[k])
            if first == "do":
                depth += 1
            elif first == "done":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        else:
            return i + 1  # no `done`: the rest is not read as a loop
        body = [cmds[start][1:], *cmds[start + 1:k]]
        body = [c for c in body if c]
        values: list[str | None] = []
        try:
            for raw in items:
                values += expand(raw, self.env)
        except (Unknown, ValueError, IndexError):
            values = [None]
        for value in values:
            self.env[var] = value
            self.run(body)
        return k + 1


def _first(cmd: list[Tok]) -> str | None:
    return cmd[0].text if cmd and cmd[0].kind == "word" else None


def read_postinst(script: str) -> tuple[list[Install], list[str]]:
    """The `--install` calls of a postinst as `postinst configure` makes them, and notes on what was not read."""
    try:
        toks = tokenize(script)
    except ShellSyntaxError as err:
        return [], [f"the script could not be read ({err})"] if "update-alternatives" in script else []
    reader = _Reader()
    reader.run(_commands(toks))
    installs: list[Install] = []
    notes = list(reader.notes)
    for call in reader.calls:  # (a call read twice, e.g. from two case arms, counts once)
        argv, cut = (call, None) if isinstance(call, list) else call
        install, note = parse_call(argv, cut)
        if install is not None:
            installs.append(install)
        if note:
            notes.append(note)
    return list(dict.fromkeys(installs)), list(dict.fromkeys(notes))


_OPT_ARG = {"--altdir", "--admindir", "--instdir", "--root", "--log"}
_OPT_FLAG = {"--quiet", "--verbose", "--debug", "--force", "--skip-auto"}


def parse_call(argv: list[str], cut: str | None = None) -> tuple[Install | None, str | None]:
    """An update-alternatives command line as an Install (None for other actions); cut: why the arguments after
    argv are unknown. The note says what was left out."""
    i = 0
    while i < len(argv) and argv[i] != "--install":
        if argv[i] in _OPT_ARG:
            i += 2
        elif argv[i] in _OPT_FLAG:
            i += 1
        else:
            return None, None  # --remove, --set, --config, ...: nothing a fresh install needs
    if i >= len(argv):
        return None, (f"an update-alternatives call was not read: {cut}" if cut else None)
    head = argv[i + 1:i + 5]
    if len(head) < 4:
        why = cut or "too few arguments"
        return None, f"update-alternatives --install {' '.join(head)} was not read: {why}"
    link, name, path, prio = head
    try:
        priority = int(prio)
    except ValueError:
        return None, f"update-alternatives --install {link}: priority {prio!r} is not a number"
    slaves: list[Slave] = []
    rest = argv[i + 5:]
    note = None
    while rest:
        if rest[0] in _OPT_FLAG:
            rest = rest[1:]
            continue
        if rest[0] != "--slave" or len(rest) < 4:
            note = f"update-alternatives --install {link}: arguments {' '.join(rest)!r} were not read"
            break
        slaves.append(Slave(rest[1], rest[2], rest[3]))
        rest = rest[4:]
    if cut and note is None:
        note = f"update-alternatives --install {link}: its later slaves were not read: {cut}"
    return Install(link, name, path, priority, tuple(slaves)), note


def choose(registered: list[tuple[str, Install]], exists: Callable[[str], bool]) -> list[Chosen]:
    """dpkg's automatic choice per alternative name, from (package, Install) pairs, sorted by name."""
    by_name: dict[str, list[tuple[str, Install]]] = {}
    for package, inst in registered:
        by_name.setdefault(inst.name, []).append((package, inst))
    out = []
    for name in sorted(by_name):
        choices = [(p, c) for p, c in by_name[name] if exists(c.path)]
        if not choices:
            continue
        package, best = min(choices, key=lambda pc: (-pc[1].priority, pc[1].path, pc[0]))
        slaves = tuple(s for s in best.slaves if exists(s.path))
        out.append(Chosen(name, best.link, best.path, best.priority, package, slaves))
    return out
