"""Cog's own `weights` entries mapped onto cognix's WeightSpec fields."""

from __future__ import annotations

import difflib
import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cognix.config.globs import gitignore_regex
from cognix.config.prepared import Ignored, KeyPath, MappedWeight, Prepared

COG_WEIGHT_KEYS = ("name", "target", "source")
COG_WEIGHT_SOURCE_KEYS = ("uri", "include", "exclude")
_COGNIX_WEIGHT_KEYS = ("src", "dest", "mode", "bucket", "globs")  # include/exclude are Cog's too (under source)
_WEIGHT_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")


# ---- Cog's weights entries -------------------------------------------------------------------------------------
#
# Three shapes, told apart from cognix's own ({src, dest, include, exclude, mode, bucket}) by their top-level keys:
# no key is in both, so an entry with any of name/target/source is Cog's, and one mixing both sets is refused.
#   v0.17.0-alpha2 to v0.19.2: {source: "path/in/project", target: "/cache/x" (default /cache/<basename>), name?}:
#       one file (or directory), mounted at target.
#   v0.19.3: {name, target, source: {uri, include?, exclude?}}: a directory's files mounted under target.
#   v0.20.0 on: source may also be a list of such mappings, merged into target (a later source's file wins).
# Cog pushes them as OCI artifacts that the platform mounts at target; cognix builds the same files into the image
# at the same paths (mode "build"). uri: a path in the project or file://path -> the path; hf://org/repo[@ref] (or
# huggingface://) -> hf://org/repo[@ref]; http(s) URLs stay. include/exclude are gitignore-style globs in Cog
# (go-gitignore), so these WeightSpecs get globs="gitignore".


def is_cog_weight(entry: Any) -> bool:
    return isinstance(entry, dict) and any(k in entry for k in COG_WEIGHT_KEYS)


def map_weights(out: Prepared, weights: list[Any], model_dir: Path | None) -> None:
    handed: list[Any] = []
    index: list[int] = []
    mounts: list[tuple[int, str, str]] = []  # (entry, key, normalised path) for the disjointness check
    names: dict[str, int] = {}
    for i, entry in enumerate(weights):
        if not is_cog_weight(entry):
            handed.append(entry)
            index.append(i)
            dest = entry.get("dest") if isinstance(entry, dict) else None
            if isinstance(dest, str) and dest.startswith("/src/"):
                mounts.append((i, "dest", posixpath.normpath(dest)))
            continue
        mixed = [k for k in _COGNIX_WEIGHT_KEYS if k in entry]
        if mixed:
            cog = [k for k in COG_WEIGHT_KEYS if k in entry]
            out.errors.append((("weights", i), "cognix", (
                f"mixes Cog's keys ({', '.join(cog)}) with cognix's ({', '.join(mixed)}); write the entry in one "
                "shape: Cog's {name, target, source} or cognix's {src, dest, include, exclude, mode, bucket}"), None))
            continue
        specs, target = _cog_weight(out, i, {k: v for k, v in entry.items() if v is not None}, model_dir, names)
        if target is not None:
            mounts.append((i, "target", target))
        for spec in specs:
            handed.append(spec)
            index.append(i)
    out.data["weights"] = handed
    out.weight_index = index
    _disjoint(out, mounts, weights)


def _disjoint(out: Prepared, mounts: list[tuple[int, str, str]], weights: list[Any]) -> None:
    """No two entries at the same place, none inside another: one problem per entry, its first clash (the earliest
    entry it meets). In O(n log n): comparing every pair took seconds for the 2000 entries a cog.yaml can hold."""
    first_at: dict[str, int] = {}  # path -> its first entry in `mounts`
    for n, (_i, _key, path) in enumerate(mounts):
        first_at.setdefault(path, n)
    around = _nearest_overlaps(first_at)
    for n, (i, key, path) in enumerate(mounts):
        written = weights[i].get(key, path)
        same = first_at[path] if first_at[path] < n else None
        clash = min((m for m in (same, *around[path]) if m is not None and m < n), default=None)
        if clash is None:
            continue
        j, other_key, other = mounts[clash]
        if clash == same:
            out.errors.append((("weights", i, key), "cognix", f"{written!r} is already used by weights[{j}]", written))
        else:
            out.errors.append((("weights", i, key), "cognix", f"{written!r} overlaps weights[{j}].{other_key} "
                               f"{other!r}", written))


def _nearest_overlaps(first_at: dict[str, int]) -> dict[str, tuple[int | None, int | None]]:
    """path -> (first entry at a path above it, first entry at a path below it). One pass over the paths in sorted
    order, with a stack of the paths above the current one ("a/" is a prefix of everything under "a/", and all of
    those sort right after it)."""
    def dir_key(path: str) -> str:
        return path.rstrip("/") + "/"

    result: dict[str, tuple[int | None, int | None]] = {}
    stack: list[list[Any]] = []  # [path, its first entry, first entry above it or itself, first entry below it]

    def pop() -> None:
        path, own, _above, below = stack.pop()
        result[path] = (result[path][0], below)
        if stack:  # what is below this path is below its parent too
            stack[-1][3] = _least(stack[-1][3], _least(own, below))

    for path in sorted(first_at, key=dir_key):
        while stack and not dir_key(path).startswith(dir_key(stack[-1][0])):
            pop()
        above = stack[-1][2] if stack else None
        result[path] = (above, None)
        stack.append([path, first_at[path], _least(above, first_at[path]), None])
    while stack:
        pop()
    return result


def _least(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _unknown(name: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean '{close[0]}'?"
    return f"unknown key; expected one of: {', '.join(sorted(known))}"


def _clean(path: str) -> str:
    """filepath.Clean for an absolute posix path (posixpath keeps a leading '//')."""
    return "/" + posixpath.normpath(path).lstrip("/")


def _cog_weight(out: Prepared, i: int, entry: dict[str, Any], model_dir: Path | None,
                names: dict[str, int]) -> tuple[list[MappedWeight], str | None]:
    """WeightSpec fields for one Cog entry (several with several sources) and its cleaned target, or ([], None)
    with the problems recorded."""
    base: KeyPath = ("weights", i)
    errors = out.errors
    before = len(errors)
    for key in entry:
        if key not in COG_WEIGHT_KEYS:
            message = ("unknown key; in Cog's shape include and exclude go under source"
                       if key in ("include", "exclude") else _unknown(str(key), COG_WEIGHT_KEYS))
            errors.append(((*base, key), "cognix", message, entry[key]))
    source = entry.get("source")
    single_file = isinstance(source, str)  # the v0.17-v0.19.2 shape
    name = entry.get("name")
    if name is None:
        if not single_file:
            errors.append(((*base, "name"), "missing", "name is required", None))
    elif not isinstance(name, str):
        errors.append(((*base, "name"), "string_type", "Input should be a valid string", name))
    elif not single_file and not _WEIGHT_NAME.match(name):
        errors.append(((*base, "name"), "value_error", "must contain only lowercase letters and digits, separated "
                       "by single hyphens, dots or underscores (e.g. 'my-model-weights')", name))
    elif not single_file and name in names:
        errors.append(((*base, "name"), "value_error", f"{name!r} is already the name of weights[{names[name]}]",
                       name))
    else:
        names.setdefault(name, i)

    sources: list[tuple[KeyPath, str, list[str], list[str]]] = []  # (where, src, include, exclude)
    if source is None:
        errors.append(((*base, "source"), "missing", "", None))
    elif single_file:
        src = _local(errors, (*base, "source"), source)
        if src is not None:
            sources.append(((*base, "source"), src, [], []))
    elif isinstance(source, dict):
        sources += _cog_source(errors, (*base, "source"), source)
    elif isinstance(source, list):
        if not source:
            errors.append(((*base, "source"), "value_error", "must list at least one source", source))
        for j, item in enumerate(source):
            sources += _cog_source(errors, (*base, "source", j), item)
    else:
        errors.append(((*base, "source"), "value_error",
                       "expected a mapping {uri, include, exclude} or a list of them", source))

    target = entry.get("target")
    written_target = target
    if target is None and single_file and sources:
        target = "/cache/" + posixpath.basename(sources[0][1])  # Cog's documented default
    cleaned = None
    if target is None:
        if not single_file:
            errors.append(((*base, "target"), "missing", "", None))
    elif not isinstance(target, str):
        errors.append(((*base, "target"), "string_type", "Input should be a valid string", target))
    elif not target.startswith("/"):
        errors.append(((*base, "target"), "value_error", f"must be an absolute path, got {target!r}", target))
    elif _clean(target) == "/":
        errors.append(((*base, "target"), "value_error", "must not be the container root '/'", target))
    else:
        cleaned = _clean(target)
    if len(errors) > before or cleaned is None:
        return [], cleaned

    specs = []
    for _where, src, include, exclude in sources:
        dest = cleaned
        if single_file and _is_file(src, cleaned, model_dir):
            # Cog's target names the file itself; cognix places a file under its own name in dest.
            if posixpath.basename(cleaned) != posixpath.basename(src):
                errors.append(((*base, "target"), "value_error", (
                    f"cognix places a weights file under its own name: write "
                    f"{posixpath.join(posixpath.dirname(cleaned), posixpath.basename(src))!r}, or rename the file"),
                    written_target))
                return [], cleaned
            dest = posixpath.dirname(cleaned)
        specs.append(MappedWeight(src=src, dest=dest, include=include, exclude=exclude, mode="build", bucket=None,
                                  globs="gitignore" if include or exclude else "fnmatch"))
    if isinstance(name, str):
        out.ignored.append(Ignored((*base, "name"), (
            f"it names the artifact Cog pushes beside the image; cognix builds these weights into the image at "
            f"{cleaned}")))
    return specs, cleaned


def _is_file(src: str, target: str, model_dir: Path | None) -> bool:
    """Whether a v0.17-v0.19.2 source is one file: asked of the model directory, else guessed from the names
    (Cog's default target, /cache/<basename>, keeps the file's name)."""
    if model_dir is not None and "://" not in src:
        path = Path(model_dir) / src
        try:
            if path.is_file():
                return True
            if path.is_dir():
                return False
        except OSError:  # a name too long to ask about: the names tell
            pass
    return posixpath.basename(target) == posixpath.basename(src)


def _cog_source(errors: list, where: KeyPath, item: Any) -> list[tuple[KeyPath, str, list[str], list[str]]]:
    if not isinstance(item, dict):
        errors.append((where, "value_error", "expected a mapping {uri, include, exclude}", item))
        return []
    item = {k: v for k, v in item.items() if v is not None}
    before = len(errors)
    for key in item:
        if key not in COG_WEIGHT_SOURCE_KEYS:
            errors.append(((*where, key), "cognix", _unknown(str(key), COG_WEIGHT_SOURCE_KEYS), item[key]))
    patterns: dict[str, list[str]] = {}
    for key in ("include", "exclude"):
        patterns[key] = _patterns(errors, (*where, key), item.get(key, []))
    uri = item.get("uri")
    src = None
    if uri is None:
        errors.append(((*where, "uri"), "missing", "", None))
    elif not isinstance(uri, str):
        errors.append(((*where, "uri"), "string_type", "Input should be a valid string", uri))
    else:
        src = _uri(errors, (*where, "uri"), uri)
    if len(errors) > before or src is None:
        return []
    return [(where, src, patterns["include"], patterns["exclude"])]


def _patterns(errors: list, where: KeyPath, value: Any) -> list[str]:
    """Cog's checks (validateWeightPatterns), and that the glob makes a pattern at all."""
    if not isinstance(value, list):
        errors.append((where, "list_type", "Input should be a valid list", value))
        return []
    out = []
    for k, raw in enumerate(value):
        if not isinstance(raw, str):
            errors.append(((*where, k), "string_type", "Input should be a valid string", raw))
            continue
        p = raw.strip()
        if not p:
            errors.append(((*where, k), "value_error", "a pattern must not be empty", raw))
        elif p.startswith("!"):
            errors.append(((*where, k), "value_error", "negation patterns (starting with '!') are not supported", raw))
        elif "\\" in p:
            errors.append(((*where, k), "value_error", "patterns must use forward slashes, not backslashes", raw))
        else:
            try:
                gitignore_regex(p)
            except re.error as err:
                errors.append(((*where, k), "value_error", f"not a pattern Cog can match ({err})", raw))
                continue
            out.append(p)
    return out


def _local(errors: list, where: KeyPath, path: str) -> str | None:
    if not path:
        errors.append((where, "value_error", "must not be empty", path))
        return None
    if path.startswith("/"):
        errors.append((where, "value_error", (
            f"cognix takes local weights only from inside the model directory (so the lock holds on any machine), "
            f"got the absolute path {path!r}"), path))
        return None
    cleaned = posixpath.normpath(path)
    if cleaned == ".":
        errors.append((where, "value_error", "a weights source cannot be the model directory itself", path))
        return None
    if ".." in cleaned.split("/"):
        errors.append((where, "value_error", f"{path!r} leaves the model directory", path))
        return None
    return cleaned


def _uri(errors: list, where: KeyPath, uri: str) -> str | None:
    """A Cog source uri as a cognix src (normalised as Cog's NormalizeURI does)."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        scheme, rest = "", uri
    if scheme in ("", "file"):
        return _local(errors, where, rest)
    if scheme in ("hf", "huggingface"):
        repo, ref = rest, ""
        at = rest.rfind("@")
        if at > 0:
            repo, ref = rest[:at], rest[at + 1:]
            if not ref:
                errors.append((where, "value_error", f"empty ref in {uri!r}", uri))
                return None
        parts = repo.split("/")
        if len(parts) != 2 or not all(parts):
            errors.append((where, "value_error", f"expected hf://org/repo[@ref], got {uri!r}", uri))
            return None
        return f"hf://{repo}" + (f"@{ref}" if ref and ref != "main" else "")
    if scheme in ("http", "https"):
        parts = urlsplit(uri)
        if parts.username is not None or parts.password is not None:
            errors.append((where, "value_error", "a URL must not carry credentials (it is written into lock.json)",
                           uri))
            return None
        if posixpath.basename(parts.path) in ("", ".", "/"):
            errors.append((where, "value_error", f"{uri!r} has no file name in its path", uri))
            return None
        return uri
    errors.append((where, "value_error",
                   f"unsupported scheme {scheme!r} (supported: file, hf, huggingface, https, http)", uri))
    return None
