"""Generated edits of a valid lock.json, at seeded random places in both sections: each one is refused by load_lock
with a LockError whose fix says `run `cognix lock``, or (an edit that changes nothing) loads the same lock; never
another exception, each in under a second. Reformatting alone (indentation, key order, escapes) still loads."""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cognix.config import load_config
from cognix.errors import LockError
from cognix.lock import integrity
from cognix.lock.lockfile import load_lock, lock_bytes, write_lock
from cognix.lock.model import Lock, RunRecord, Sdist, StandalonePython, WeightFile, WeightSet

from test_lock_integrity import _deb
from test_lockfile import make_lock, model, wheel  # noqa: F401 - the fixture

SEED = 20260518
EDITS = 180
HEX = "0123456789abcdef"

JsonPath = tuple  # a JSON path: keys and list indices


def rich_lock(model_dir: Path) -> Lock:
    """make_lock's lock with every section filled, so edits reach every kind of field."""
    lock = make_lock(model_dir)
    built = wheel("sdistpkg", ["idna"]).model_copy(update={"sdist": Sdist(
        filename="sdistpkg-1.0.tar.gz", url="https://index.invalid/sdistpkg-1.0.tar.gz", sha256="cd" * 32, size=20,
        build_requires=["setuptools==70.0"], compiles=True)})
    return lock.model_copy(update={
        "wheels": sorted([*lock.wheels, built], key=lambda w: w.name),
        "debs": [_deb("libc6", []), _deb("tini", ["libc6"])],
        "build_debs": [_deb("gcc-12", ["libc6"])],
        "build_wheels": [wheel("pip", []), wheel("setuptools", [])],
        "run_wheels": ["pip==1.0"],
        "run_records": [RunRecord(inputs="ef" * 32, digest="01" * 32, files={"usr/bin/x": "f:" + "23" * 32,
                                                                               "etc/old": "w"})],
        "weights": [WeightSet(src="weights", dest="/src/weights", mode="build", files=[
            WeightFile(path="a.bin", size=3, sha256="45" * 32, source="weights/a.bin"),
            WeightFile(path="sub/b.bin", size=4, sha256="67" * 32, source="weights/sub/b.bin", etag="e1")])],
        "python": StandalonePython(version="3.11.9", release="20240726", filename="cpython-3.11.9.tar.gz",
                                   url="https://python.invalid/cpython-3.11.9.tar.gz", sha256="89" * 32, size=30,
                                   listed_by="uv 0.4.0"),
        "find_links": ["https://links.invalid/"],
        "mirror": "https://mirror.invalid/debian",
    })


# ---- where edits go --------------------------------------------------------------------------------------------


def _paths(doc: Any, path: JsonPath = ()) -> Iterator[JsonPath]:
    yield path
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        yield from _paths(value, (*path, key))


def _get(doc: Any, path: JsonPath) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _set(doc: Any, path: JsonPath, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


def _is_hex(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in HEX for c in value)


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("https://")


# ---- the edits: (name, applies to (doc, path), apply (rng, doc, path)) -----------------------------------------


def _delete(rng: random.Random, doc: Any, path: JsonPath) -> None:
    del _get(doc, path[:-1])[path[-1]]


def _string(rng: random.Random, doc: Any, path: JsonPath) -> None:
    value = _get(doc, path)
    _set(doc, path, rng.choice([value + "x", value[:-1], "", value.upper(), " " + value, value + "\n",
                                value + "\u0000", value + "\ud800", "\u00e9" + value, value * 2]))


def _number(rng: random.Random, doc: Any, path: JsonPath) -> None:
    value = _get(doc, path)
    _set(doc, path, rng.choice([value + 1, value - 1, 0, -value - 1, 10**30, value + 0.5, float(value), 2**63]))


def _flip(rng: random.Random, doc: Any, path: JsonPath) -> None:
    _set(doc, path, not _get(doc, path))


def _swap(rng: random.Random, doc: Any, path: JsonPath) -> None:
    items = _get(doc, path)
    i, j = rng.sample(range(len(items)), 2)
    items[i], items[j] = items[j], items[i]


def _duplicate(rng: random.Random, doc: Any, path: JsonPath) -> None:
    items = _get(doc, path)
    items.insert(rng.randrange(len(items) + 1), copy.deepcopy(rng.choice(items)))


def _sha256(rng: random.Random, doc: Any, path: JsonPath) -> None:
    value = _get(doc, path)
    at = rng.randrange(64)
    _set(doc, path, value[:at] + HEX[(HEX.index(value[at]) + 1) % 16] + value[at + 1:])


def _url(rng: random.Random, doc: Any, path: JsonPath) -> None:
    value = _get(doc, path)
    _set(doc, path, rng.choice([value.replace("https://", "http://"), value.replace(".invalid", ".evil.invalid"),
                                value + "?x=1", "file:///etc/passwd", value.replace("https://", "https://u:p@")]))


def _version(rng: random.Random, doc: Any, path: JsonPath) -> None:
    _set(doc, path, rng.choice(["1.1", "0.9", "1.0.post1", "2!1.0", "", "latest"]))


def _unknown_key(rng: random.Random, doc: Any, path: JsonPath) -> None:
    _get(doc, path)[rng.choice(["extra", "notes", "sha512", "Name", ""])] = rng.choice([1, "x", None, [], {}])


def _escape(rng: random.Random, doc: Any, path: JsonPath) -> None:
    value = _get(doc, path)
    _set(doc, path, rng.choice(["../" + value, "/" + value, value + "/../..", "a/../../" + value, "..",
                                value.replace("/", "\\"), "./" + value, "/etc/passwd"]))


def _retype(rng: random.Random, doc: Any, path: JsonPath) -> None:
    value = _get(doc, path)
    choices = [v for v in [None, True, 0, 1.5, "1", "", [], [value], {}, {"value": value}] if v != value]
    _set(doc, path, rng.choice(choices))


def _leaf(kind: type | tuple) -> Callable[[Any, JsonPath], bool]:
    def applies(doc: Any, path: JsonPath) -> bool:
        value = _get(doc, path)
        return bool(path) and isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    return applies


def _named(*keys: str) -> Callable[[Any, JsonPath], bool]:
    return lambda doc, path: bool(path) and path[-1] in keys and isinstance(_get(doc, path), str)


EDIT_KINDS: list[tuple[str, Callable[[Any, JsonPath], bool], Callable[[random.Random, Any, JsonPath], None]]] = [
    ("delete", lambda doc, path: bool(path), _delete),
    ("change a string", _leaf(str), _string),
    ("change a number", _leaf(int), _number),
    ("flip a bool", _leaf(bool), _flip),
    ("swap list items", lambda doc, path: isinstance(_get(doc, path), list) and len(_get(doc, path)) >= 2, _swap),
    ("duplicate an item", lambda doc, path: isinstance(_get(doc, path), list) and bool(_get(doc, path)), _duplicate),
    ("change a sha256", lambda doc, path: _is_hex(_get(doc, path)), _sha256),
    ("change a URL", lambda doc, path: _is_url(_get(doc, path)), _url),
    ("change a version", _named("version"), _version),
    ("add an unknown key", lambda doc, path: isinstance(_get(doc, path), dict), _unknown_key),
    ("a path that escapes", _named("filename", "path", "dest", "src", "source"), _escape),
    ("change a type", lambda doc, path: bool(path), _retype),
]


def generated_edits(doc: dict) -> list[tuple[str, dict]]:
    """EDITS edits of doc, round-robin over the kinds, each at a seeded random place where it applies; the
    fetchPipMetadata section gets its share (it is what the Nix engine reads)."""
    rng = random.Random(SEED)
    everywhere = list(_paths(doc))
    pip = [p for p in everywhere if p[:1] == ("fetchPipMetadata",)]
    edits = []
    for n in range(EDITS):
        name, applies, apply = EDIT_KINDS[n % len(EDIT_KINDS)]
        pool = pip if n % 4 == 3 and any(applies(doc, p) for p in pip) else everywhere
        path = rng.choice([p for p in pool if applies(doc, p)])
        edited = copy.deepcopy(doc)
        apply(rng, edited, path)
        edits.append((f"{n}: {name} at {'/'.join(map(str, path)) or '(root)'}", edited))
    return edits


def text_edits(text: str) -> dict[str, str]:
    """Edits only text can make: broken JSON, keys written twice, non-JSON numbers, deep nesting, odd encodings."""
    lines = text.splitlines(keepends=True)
    sha_line = next(i for i, ln in enumerate(lines) if '"sha256"' in ln)
    other_sha = lines[sha_line].split('"sha256": "')[0] + '"sha256": "' + "00" * 32 + '",\n'
    deep = "[" * 100_000 + "]" * 100_000
    return {
        "empty": "",
        "truncated": text[: len(text) // 2],
        "one character less": text[: text.index('"version"') + 2] + text[text.index('"version"') + 3:],
        "null": "null\n",
        "a list": "[]\n",
        "a string": '"lock"\n',
        "no cognix section": '{"contentHash": "x", "invalidationHash": "x"}\n',
        "cognix a list": '{"cognix": [], "invalidationHash": "x"}\n',
        "a key twice, the first one wrong": "".join(lines[:sha_line] + [other_sha] + lines[sha_line:]),
        "a key twice, the same value": "".join(lines[:sha_line] + [lines[sha_line].rstrip(",\n") + ",\n"]
                                               + lines[sha_line:]),
        "NaN": text.replace('"size": 10', '"size": NaN', 1),
        "Infinity in config": text.replace('"config": {', '"config": {"x": Infinity, ', 1),
        "a huge integer": text.replace('"size": 10', '"size": ' + "9" * 5000, 1),
        "deep nesting in config": text.replace('"config": {', '"config": {"x": ' + deep + ", ", 1),
        "nesting deeper than 64": text.replace('"config": {', '"config": {"x": ' + "[" * 70 + "]" * 70 + ", ", 1),
        "a float out of range": text.replace('"config": {', '"config": {"x": 1e400, ', 1),
        "lone surrogate": text.replace('"version": "1.0"', '"version": "1.0\\ud800"', 1),
        "escaped NUL": text.replace('"version": "1.0"', '"version": "1.0\\u0000"', 1),
        "BOM": "\ufeff" + text,
        "not UTF-8": text.replace('"1.0"', '"1.0\udcff"', 1),
        "trailing garbage": text + "}\n",
        "two documents": text + text,
        "comment": "// edited\n" + text,
        "trailing comma": text.replace('\n  },\n  "contentHash"', '\n  },,\n  "contentHash"', 1),
    }


def reformatted(doc: dict) -> dict[str, str]:
    def reverse(value: Any) -> Any:  # every object's keys in the opposite order
        if isinstance(value, dict):
            return {k: reverse(value[k]) for k in reversed(list(value))}
        return [reverse(v) for v in value] if isinstance(value, list) else value
    return {
        "indent 4": json.dumps(doc, indent=4, sort_keys=True),
        "one line": json.dumps(doc, separators=(",", ":")),
        "tabs": json.dumps(doc, indent="\t"),
        "keys reversed": json.dumps(reverse(doc), indent=2),
        "ASCII escapes": json.dumps(doc, indent=2, ensure_ascii=True),
        "CRLF and trailing spaces": json.dumps(doc, indent=2).replace("\n", "  \r\n") + "\r\n\r\n",
    }


# ---- running them ----------------------------------------------------------------------------------------------


@pytest.fixture
def locked(model: Path) -> tuple[Path, Any, Lock, dict]:  # noqa: F811
    lock = rich_lock(model)
    write_lock(model, lock)
    config = load_config(model)
    assert load_lock(model, config) == lock
    return model, config, lock, json.loads(lock_bytes(lock))


def _outcome(model_dir: Path, config: Any, lock: Lock, text: str | bytes) -> str:
    """'refused' or 'loads the same'; AssertionError otherwise (another exception, a loaded change, slowness)."""
    path = model_dir / "lock.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    started = time.perf_counter()
    try:
        loaded = load_lock(model_dir, config)
        outcome = "loads the same"
        assert loaded == lock, "an edited lock loaded as a different lock"
    except LockError as err:
        assert "run `cognix lock`" in (err.fix or ""), err.message
        assert "lock.json" in err.message and "Traceback" not in err.message, err.message
        outcome = "refused"
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    return outcome


def _run(model_dir: Path, config: Any, lock: Lock, cases: dict[str, str | bytes]) -> tuple[dict[str, int], list]:
    counts = {"refused": 0, "loads the same": 0}
    failures = []
    for name, text in cases.items():
        try:
            counts[_outcome(model_dir, config, lock, text)] += 1
        except Exception as err:  # noqa: BLE001 - every failure is reported, with its case
            failures.append(f"{name}: {type(err).__name__}: {str(err)[:300]}")
    return counts, failures


def _dumped(doc: dict) -> str:
    return json.dumps(doc, sort_keys=True, indent=2) + "\n"


def test_every_generated_edit_is_refused(locked: tuple[Path, Any, Lock, dict]) -> None:
    model_dir, config, lock, doc = locked
    edits = generated_edits(doc)
    assert len(edits) == EDITS and [e for e, _ in generated_edits(doc)] == [e for e, _ in edits]
    # an edit that changes nothing (two equal items swapped); 10 -> 10.0 is a change: not what cognix writes
    no_ops = {name for name, edited in edits if _dumped(edited) == _dumped(doc)}
    counts, failures = _run(model_dir, config, lock, {name: _dumped(edited) for name, edited in edits})
    print(f"\nlock.json fuzz: {len(edits)} generated edits, {counts['refused']} refused, "
          f"{counts['loads the same']} no-ops that load the same: {sorted(no_ops)}")
    assert failures == []
    assert counts == {"refused": EDITS - len(no_ops), "loads the same": len(no_ops)}
    assert sum(name.split(" at ")[1].startswith("fetchPipMetadata") for name, _ in edits) >= EDITS // 5


def _rehashed(doc: dict) -> dict:
    """doc with its contentHash recomputed, as a careful hand edit would (a lone surrogate cannot be hashed)."""
    try:
        return {**doc, integrity.CONTENT_KEY: integrity.content_hash(doc)}
    except UnicodeEncodeError:
        return doc


def test_edits_with_the_hash_recomputed_meet_the_rules(locked: tuple[Path, Any, Lock, dict]) -> None:
    """Past the content hash: no other exception either, and what the rules cover (paths that leave their root,
    items twice) is still refused; other consistent edits may load (a wrong sha256 fails at the download)."""
    model_dir, config, _lock, doc = locked
    counts = {"refused": 0, "loads": 0}
    failures = []
    for name, edited in generated_edits(doc):
        (model_dir / "lock.json").write_text(_dumped(_rehashed(edited)))
        started = time.perf_counter()
        try:
            load_lock(model_dir, config)
            counts["loads"] += 1
            if _dumped(edited) != _dumped(doc) and ("escapes" in name or "duplicate an item at cognix/" in name
                                                    and name.split("/")[-1] in ("wheels", "build_wheels", "debs",
                                                                                "build_debs")):
                failures.append(f"{name}: loaded")
        except LockError as err:
            counts["refused"] += 1
            if "run `cognix lock`" not in f"{err.message} {err.fix}":  # a stale lock says so in its message
                failures.append(f"{name}: {err.message}")
        except Exception as err:  # noqa: BLE001 - every failure is reported, with its case
            failures.append(f"{name}: {type(err).__name__}: {str(err)[:300]}")
        if time.perf_counter() - started >= 1.0:
            failures.append(f"{name}: slow")
    print(f"\nlock.json edits with the hash recomputed: {counts['refused']} refused, {counts['loads']} load")
    assert failures == []


def test_every_text_edit_is_refused(locked: tuple[Path, Any, Lock, dict]) -> None:
    model_dir, config, lock, _doc = locked
    cases = text_edits((model_dir / "lock.json").read_text())
    counts, failures = _run(model_dir, config, lock, cases)
    print(f"\nlock.json text edits: {len(cases)}, {counts['refused']} refused")
    assert failures == []
    assert counts == {"refused": len(cases), "loads the same": 0}


def test_reformatting_alone_still_loads(locked: tuple[Path, Any, Lock, dict]) -> None:
    model_dir, config, lock, doc = locked
    counts, failures = _run(model_dir, config, lock, reformatted(doc))
    assert failures == []
    assert counts == {"refused": 0, "loads the same": 6}


@pytest.mark.parametrize(("name", "expected"), [
    ("a key twice, the first one wrong", "lock.json is malformed (the key 'sha256' is written twice in one object)"),
    ("NaN", "lock.json is malformed (NaN is not a JSON value)"),
    ("deep nesting in config", "lock.json is malformed (nested too deeply)"),
    ("nesting deeper than 64", "lock.json is malformed (nested too deeply)"),
    ("a float out of range", "lock.json is malformed (the number 1e400 is out of range)"),
    ("a huge integer", "lock.json is malformed (a number 5000 digits long)"),
    ("lone surrogate", "lock.json is malformed (a string holds a lone surrogate, which no UTF-8 file can)"),
    ("no cognix section", "lock.json is malformed (it has no 'cognix' section)"),
    ("cognix a list", "lock.json is malformed (cognix: Input should be a valid dictionary or instance of Lock)"),
    ("a list", "lock.json is malformed (not a JSON object)"),
])
def test_what_a_text_edit_is_told(locked: tuple[Path, Any, Lock, dict], name: str, expected: str) -> None:
    model_dir, config, _lock, _doc = locked
    (model_dir / "lock.json").write_text(text_edits((model_dir / "lock.json").read_text())[name])
    with pytest.raises(LockError) as info:
        load_lock(model_dir, config)
    assert info.value.what == expected


def test_an_unknown_top_level_key_is_refused(locked: tuple[Path, Any, Lock, dict]) -> None:
    model_dir, config, _lock, doc = locked
    (model_dir / "lock.json").write_text(_dumped({**doc, "extra": {"sources": {}}}))
    with pytest.raises(LockError) as info:
        load_lock(model_dir, config)
    assert "lock.json is not as `cognix lock` wrote it: it has a key cognix does not write: 'extra'" in \
        info.value.message
