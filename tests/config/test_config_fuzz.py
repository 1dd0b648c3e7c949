"""A generated corpus of malformed cog.yaml files: realistic ones (as Cog models write them) mutated by a seeded
random.Random, so the corpus is the same on every run. Each case loads or gives a ConfigError naming cog.yaml, in
under a second, and never any other exception; `cognix lock --check` on a sample exits 1 without a traceback."""

from __future__ import annotations

import os

import random
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from cognix.cli.main import cli
from cognix.config import load_config
from cognix.errors import CognixError, ConfigError

SEED = 20260517
CORPUS_SIZE = 389
CLI_SAMPLE = 20
REQUIREMENTS = "numpy==1.26.4\nPillow>=10.0  # images\n-r more-requirements.txt\n"
MORE_REQUIREMENTS = "tqdm==4.66.1\n"

BASES: dict[str, str] = {
    "hello": """\
# A tiny CPU model
build:
  python_version: "3.11"
predict: "predict.py:Predictor"
""",
    "gpu-torch": """\
build:
  gpu: true
  cuda: "12.1"
  python_version: "3.11"
  system_packages:
    - "libgl1-mesa-glx"
    - "ffmpeg"
  python_packages:
    - "torch==2.1.0"
    - "transformers==4.35.2"
    - "accelerate>=0.24"
  run:
    - "echo one"
    - command: "curl -o /tmp/x https://files.invalid/x"
      mounts:
        - type: secret
          id: hf_token
          target: /run/secrets/hf_token
predict: "predict.py:Predictor"
train: "train.py:train"
concurrency:
  max: 4
environment:
  - HF_HOME=/src/.cache
  - TOKENIZERS_PARALLELISM=false
image: "r8.im/someone/model"
""",
    "requirements": """\
build:
  gpu: false
  python_version: "3.12"
  python_requirements: requirements.txt
  system_packages: [git, wget]
predict: predict.py:Predictor
""",
    "cognix-weights": """\
build:
  python_version: "3.10"
predict: "predict.py:Predictor"
weights:
  - src: weights
    dest: /src/weights
    include: ["*.safetensors", "*.json"]
    exclude: ["*.bin"]
  - src: https://files.invalid/vae.safetensors
    dest: /src/vae
    mode: build
""",
    "cog-weights": """\
build:
  python_version: "3.12"
  gpu: true
run: "predict.py:Predictor"
model: r8.im/someone/model
weights:
  - name: base-model
    target: /src/models/base
    source:
      uri: hf://someone/base-model
      include: ["*.safetensors"]
      exclude: ["*.md"]
  - name: lora
    target: /src/models/lora
    source:
      - uri: file://lora
      - uri: https://files.invalid/extra.safetensors
""",
    "old-cog": """\
build:
  python_version: 3.8
  gpu: true
  cuda: 11.8
  fast: true
  pre_install:
    - pip install -U pip
  python_packages:
    - torch==1.13.1
  python_find_links:
    - https://links.invalid/wheels.html
  sdk_version: "0.16.2"
concurrency: 1
tests:
  - inputs:
      prompt: a photo
predict: predict.py:Predictor
""",
    "anchors": """\
build:
  python_version: &py "3.11"
  system_packages: &pkgs [git, curl]
  run:
    - &step "echo one"
    - *step
    - command: echo two
      mounts: &mounts
        - {type: secret, id: token, target: /run/secrets/token}
predict: "predict.py:Predictor"
environment:
  - "A=1"
  - 'B=two words'
""",
}

WRONG_VALUES: list[Any] = [
    None, True, False, 0, -1, 3.5, 10**30, float("inf"), "", "x", "3.11", "a\nb", "predict.py:Predictor", "/abs",
    "../up", [], ["x"], [1, 2], [[["deep"]]], {}, {"a": 1}, {"command": 1}, {"type": "secret"},
]
INSERTED = [":", "-", " ", "\n", "[", "]", "{", "}", '"', "'", "&", "*", "!", "%", "#", "|", ">", "?", ",", "@",
            "\t", "\x00", "\x1b", "\x7f", "\u2028", "\ufeff", "\U0001f600", "é", "\\", "~"]
CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f"]
BAD_BYTES = [b"\xff", b"\xfe", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80"]
KEY_NAMES = ["buidl", "predcit", "gpus", "python_verison", "systen_packages", "enviroment", "weight", "command",
             "mounts", "x", "1", "true", "null", "<<", "build", "predict", "", "ünïcode", "a" * 300]


@dataclass
class Case:
    name: str
    content: bytes
    files: dict[str, str] = field(default_factory=dict)


# ---- structural mutations: on the parsed data, dumped back as YAML ---------------------------------------------


def _paths(data: Any, path: tuple = ()) -> Iterator[tuple]:
    """Every key path in data (the root excluded)."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield (*path, key)
        yield from _paths(value, (*path, key))


def _at(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False).encode()


def _wrong_type(rng: random.Random, data: Any, path: tuple) -> None:
    current = _at(data, path)
    choices = [v for v in WRONG_VALUES if type(v) is not type(current)]
    _at(data, path[:-1])[path[-1]] = rng.choice(choices)


def _delete(rng: random.Random, data: Any, path: tuple) -> None:
    del _at(data, path[:-1])[path[-1]]


def _insert_key(rng: random.Random, data: Any, path: tuple) -> None:
    parent = _at(data, path[:-1])
    if isinstance(parent, dict):
        parent[rng.choice(KEY_NAMES)] = rng.choice(WRONG_VALUES)
    else:
        parent.insert(path[-1], rng.choice(WRONG_VALUES))


def _rename(rng: random.Random, data: Any, path: tuple) -> None:
    parent = _at(data, path[:-1])
    if isinstance(parent, dict):
        parent[path[-1] + rng.choice(["s", "_", "X"])] = parent.pop(path[-1])
    else:
        parent.append(parent[path[-1]])  # a list item twice


def _wrap(rng: random.Random, data: Any, path: tuple) -> None:
    parent = _at(data, path[:-1])
    value = parent[path[-1]]
    parent[path[-1]] = rng.choice([[value], {"value": value}, [value, value]])


def _nest(rng: random.Random, data: Any, path: tuple) -> None:
    value: Any = _at(data, path)
    for _ in range(rng.choice([5, 20, 40, 200])):
        value = [value] if rng.random() < 0.5 else {"k": value}
    _at(data, path[:-1])[path[-1]] = value


def _structural(rng: random.Random, name: str, text: str, count: int) -> Iterator[Case]:
    base = yaml.safe_load(text)
    paths = list(_paths(base))
    for path in paths:  # a wrong type at every key
        data = yaml.safe_load(text)
        _wrong_type(rng, data, path)
        yield Case(f"{name}: wrong type at {path}", _dump(data))
    edits: list[Callable[[random.Random, Any, tuple], None]] = [_delete, _insert_key, _rename, _wrap, _nest]
    for n in range(count):
        data = yaml.safe_load(text)
        edit = edits[n % len(edits)]
        path = rng.choice(paths)
        edit(rng, data, path)
        yield Case(f"{name}: {edit.__name__.strip('_')} at {path}", _dump(data))
    data = yaml.safe_load(text)
    data[rng.choice(KEY_NAMES)] = rng.choice(WRONG_VALUES)
    yield Case(f"{name}: unknown top-level key", _dump(data))


# ---- text mutations: on the file as written ---------------------------------------------------------------------


def _text_edits(rng: random.Random, text: str) -> Iterator[tuple[str, bytes]]:
    """Local edits: characters deleted and inserted, truncation, bytes that are not UTF-8, lines moved."""
    lines = text.splitlines(keepends=True)
    for _ in range(2):
        at = rng.randrange(len(text))
        yield f"delete {at}", (text[:at] + text[at + rng.randint(1, 5):]).encode()
    for _ in range(3):
        at, char = rng.randrange(len(text) + 1), rng.choice(INSERTED)
        yield f"insert {char!r} at {at}", (text[:at] + char + text[at:]).encode()
    for _ in range(2):
        at = rng.randrange(len(text))
        yield f"truncate at {at}", text[:at].encode()
    at, raw = rng.randrange(len(text)), rng.choice(BAD_BYTES)
    yield f"bytes {raw!r} at {at}", text.encode()[:at] + raw + text.encode()[at:]
    line = rng.randrange(len(lines))
    yield f"tab indent line {line}", "".join(
        ln.replace("  ", "\t", 1) if i == line else ln for i, ln in enumerate(lines)).encode()
    at, char = rng.choice([i for i, ch in enumerate(text) if ch.isalnum()]), rng.choice(CONTROLS)
    yield f"raw control {char!r} at {at}", (text[:at] + char + text[at:]).encode()
    escaped = rng.choice(["\\0", "\\x01", "\\e", "\\x7f", "\\x9b", "\\N", "\\ud800", "\\udfff", "\\u2028", "\\t"])
    first = text.find('"') + 1  # in the first double-quoted value (at the start where a file has none)
    yield f"escaped {escaped} in a quoted value", (text[:first] + escaped + text[first:]).encode()
    line = rng.randrange(len(lines))
    yield f"duplicate line {line}", "".join(lines[: line + 1] + [lines[line]] + lines[line + 1:]).encode()
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    swapped = list(lines)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    yield f"swap lines {i} and {j}", "".join(swapped).encode()


WHOLE_FILE: dict[str, Callable[[str], bytes]] = {
    "BOM": lambda text: b"\xef\xbb\xbf" + text.encode(),
    "UTF-16": lambda text: text.encode("utf-16"),
    "tabs everywhere": lambda text: text.replace("  ", "\t").encode(),
    "every line twice": lambda text: "".join(ln + ln for ln in text.splitlines(keepends=True)).encode(),
    "CRLF": lambda text: text.replace("\n", "\r\n").encode(),
    "CR only": lambda text: text.replace("\n", "\r").encode(),
    "dedented": lambda text: "".join(ln.lstrip(" ") for ln in text.splitlines(keepends=True)).encode(),
    "as flow": lambda text: yaml.safe_dump(yaml.safe_load(text), default_flow_style=True).encode(),
    "two documents": lambda text: (text + "---\n" + text).encode(),
    "garbage after the end": lambda text: (text + "...\ngarbage: [\n").encode(),
}


# ---- whole documents ----------------------------------------------------------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh")) + "build: {run: [*h]}\n"
SPECIALS: dict[str, bytes | str] = {
    "empty": b"",
    "only whitespace": "   \n\n\t\n",
    "only a comment": "# nothing here\n",
    "null document": "null\n",
    "tilde document": "~\n",
    "a list": "- build\n- predict\n",
    "a scalar": "42\n",
    "a string": '"build: {gpu: true}"\n',
    "a boolean": "true\n",
    "just a key": "build\n",
    "just a colon": ":\n",
    "empty flow mapping": "{}\n",
    "empty flow list": "[]\n",
    "directive only": "%YAML 1.1\n---\n",
    "unknown directive": "%FOO bar\n---\nbuild: {}\n",
    "document markers": "---\n...\n---\n",
    "NUL only": b"\x00",
    "NUL at the end": b"build:\n  gpu: true\n\x00",
    "UTF-16 with BOM": "build:\n  gpu: true\n".encode("utf-16"),
    "UTF-32": "build:\n  gpu: true\n".encode("utf-32"),
    "latin-1": "environment:\n  - NAME=caf\xe9\n".encode("latin-1"),
    "BOM twice": b"\xef\xbb\xbf\xef\xbb\xbfbuild: {}\n",
    "BOM mid-file": "build:\n  gpu: true\n\ufeffpredict: predict.py:P\n",
    "deep flow list": "build: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep flow mapping": "build: " + "{a: " * 2000 + "1" + "}" * 2000 + "\n",
    "deep block mapping": "".join("  " * i + f"k{i}:\n" for i in range(200)),
    "deep block list": "".join("  " * i + "-\n" for i in range(300)),
    "deep through aliases": "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 300)),
    "unclosed flow": "build: [" * 50 + "\n",
    "alias bomb": BOMB,
    "wide aliases": "v: &v [" + ",".join(["a"] * 400) + "]\nenvironment: [" + ",".join(["*v"] * 300) + "]\n",
    "self alias": "a: &a [*a]\n",
    "self alias in a mapping": "a: &a {b: *a}\n",
    "undefined alias": "build: *nowhere\n",
    "anchor redefined": "a: &x 1\nb: &x 2\nbuild: {python_version: *x}\n",
    "merge key": "build:\n  run:\n    - &step {command: echo one}\n    - <<: *step\n      command: echo two\n",
    "merge into build": "x: &x {python_version: '3.11', gpu: 5}\nbuild:\n  <<: *x\n",
    "merge a list": "build:\n  <<: [{gpu: true}, {gpu: false}]\n  python_version: '3.11'\n",
    "merge a scalar": "build:\n  <<: 5\n",
    "quoted merge key": "build:\n  '<<': {gpu: true}\n",
    "huge integer": "concurrency:\n  max: " + "9" * 5000 + "\n",
    "huge negative": "build:\n  gpu: -" + "1" * 4400 + "\n",
    "huge float": "concurrency:\n  max: 1e99999\n",
    "nan": "concurrency:\n  max: .nan\n",
    "hex integer": "concurrency:\n  max: 0x10\n",
    "broken hex": "concurrency:\n  max: 0x_\n",
    "broken binary": "build:\n  gpu: 0b_\n",
    "sexagesimal": "concurrency:\n  max: 1:30\n",
    "long sexagesimal": "concurrency:\n  max: " + ":".join(["59"] * 3000) + "\n",
    "huge version": "build:\n  python_version: 3." + "1" * 5000 + "\n",
    "timestamp": "build:\n  python_version: 2001-12-14\n",
    "bad timestamp": "build:\n  python_version: 2001-13-45\n",
    "timestamp with time": "image: 2001-12-14t21:59:43.10-05:00\n",
    "explicit timestamp": "image: !!timestamp nonsense\n",
    "explicit bad int": "concurrency:\n  max: !!int abc\n",
    "explicit bad float": "concurrency:\n  max: !!float abc\n",
    "explicit bad bool": "build:\n  gpu: !!bool maybe\n",
    "explicit null": "build:\n  gpu: !!null x\n",
    "explicit str": "build:\n  python_version: !!str 3.10\n",
    "binary": "predict: !!binary cHJlZGljdC5weTpQAA==\n",
    "set": "build:\n  system_packages: !!set {git, curl, wget, ffmpeg}\n",
    "omap": "build: !!omap [gpu: true]\n",
    "pairs": "build:\n  run: !!pairs [a: b]\n",
    "python object": "build: !!python/object:os.system {}\n",
    "python name": "predict: !!python/name:os.system\n",
    "local tag": "build: !custom {gpu: true}\n",
    "verbatim tag": "predict: !<tag:example.invalid,2026:x> predict.py:P\n",
    "tag on a mapping as str": "build: !!str {gpu: true}\n",
    "unhashable key": "? [a, b]\n: 1\n",
    "mapping key": "? {a: 1}\n: 1\n",
    "integer keys": "1: a\n2: b\n",
    "boolean keys": "yes: 1\nno: 2\n",
    "null key": "~: 1\nnull: 2\n",
    "numeric key in build": "build:\n  0x_: true\n",
    "duplicate top-level keys": "build: {}\nbuild: {gpu: true}\npredict: a.py:P\npredict: b.py:P\n",
    "duplicate keys in flow": "build: {gpu: true, gpu: false}\n",
    "many duplicate keys": "build:\n" + "  gpu: true\n" * 3000,
    "many values": "environment: [" + ",".join(["1"] * 20000) + "]\n",
    "many keys": "build: {" + ",".join(f"k{i}: 1" for i in range(9000)) + "}\n",
    "many run steps": "build:\n  run:\n" + "".join(f"    - {{command: {i}}}\n" for i in range(4000)),
    "many weights": "weights:\n" + "".join(f"  - {{src: w{i}, dest: /src/w{i}}}\n" for i in range(1900)),
    "many errors through aliases": "w: &w {" + ",".join(f"k{i}: 1" for i in range(300)) + "}\nweights: ["
                                   + ",".join(["*w"] * 30) + "]\n",
    "long string": "image: " + "x" * 120_000 + "\n",
    "long key": "x" * 100_000 + ": 1\n",
    "long line of spaces": "build: {}\n" + " " * 120_000 + "\n",
    "too big": "build: {}\n" + "# padding\n" * 20_000,
    "long requirements name": "build:\n  python_requirements: " + "r" * 5000 + "\n",
    "requirements a device": "build:\n  python_requirements: /dev/zero\n",  # it would never finish reading
    "requirements outside": "build:\n  python_requirements: ../../../../../../../../etc/hostname\n",
    "requirements a directory": "build:\n  python_requirements: .\n",
    "requirements empty name": "build:\n  python_requirements: ''\n",
    "long cog weights source": "weights:\n  - source: " + "s" * 5000 + "\n    target: /src/x\n",
    "weights source with ..": "weights:\n  - source: ../secret\n",
    "weights at the root": "weights:\n  - {name: a, target: /, source: {uri: a}}\n",
    "weights overlapping": "weights:\n  - {src: a, dest: /src/w}\n  - {src: b, dest: /src/w/x}\n"
                           "  - {src: c, dest: /src/w}\n",
    "run a mapping": "build:\n  run: {command: echo}\n",
    "run with newline": 'build:\n  run:\n    - "echo a\\necho b"\n',
    "environment a mapping": "environment:\n  A: 1\n",
    "first-release model key": "model: predict.py:Predictor\nbuild: {}\n",
    "tab in a value": 'build:\n  run:\n    - "printf \'a\\tb\'"\n',
    "tab before a value": "build:\n  gpu:\ttrue\n",
    "CR in a key": "build:\n  g\rpu: true\n",
    "form feed": "build:\n  gpu: true\x0c\n",
    "unterminated quote": 'predict: "predict.py:P\n',
    "unterminated single quote": "predict: 'predict.py:P\n",
    "bad escape": 'predict: "\\q"\n',
    "block scalar": "predict: |\n  predict.py:Predictor\n",
    "folded scalar with controls": "predict: >\n  predict.py:P\x1b\n",
    "complex key syntax": "? build\n: {gpu: true}\n",
    "flow in block": "build: {gpu: true\n  python_version: '3.11'}\n",
    "indentation error": "build:\n  gpu: true\n python_version: '3.11'\n",
    "colon in plain value": "predict: predict.py:Predictor: extra\n",
    "json": '{"build": {"gpu": true}, "predict": "predict.py:Predictor"}\n',
    "json with trailing comma": '{"build": {"gpu": true},}\n',
}


def _corpus() -> list[Case]:
    rng = random.Random(SEED)
    files = {"requirements.txt": REQUIREMENTS, "more-requirements.txt": MORE_REQUIREMENTS}
    cases = [Case(f"{name}: as written", text.encode(), files) for name, text in BASES.items()]
    for k, (name, text) in enumerate(BASES.items()):
        cases += [Case(f"{name}: {what}", content, files) for what, content in _text_edits(rng, text)]
        # each whole-file edit on two of the files
        cases += [Case(f"{name}: {what}", edit(text), files) for i, (what, edit) in enumerate(WHOLE_FILE.items())
                  if k in (i % len(BASES), (i + 3) % len(BASES))]
        cases += [Case(c.name, c.content, files) for c in _structural(rng, name, text, 5)]
    cases += [Case(name, text if isinstance(text, bytes) else text.encode(), files) for name, text in SPECIALS.items()]
    return cases


CASES = _corpus()


def _write(root: Path, n: int, case: Case) -> Path:
    model_dir = root / f"case{n}"
    model_dir.mkdir()
    (model_dir / "predict.py").write_text("class Predictor: ...\n")
    (model_dir / "cog.yaml").write_bytes(case.content)
    for name, text in case.files.items():
        (model_dir / name).write_text(text)
    return model_dir


def _outcome(model_dir: Path) -> str:
    """'accepted' or 'refused'; AssertionError for anything else (another exception, a bad problem, slowness)."""
    started = time.perf_counter()
    try:
        load_config(model_dir)
        outcome = "accepted"
    except ConfigError as err:
        assert isinstance(err, CognixError) and err.problems and err.fix, err
        for problem in err.problems:
            assert isinstance(problem, str) and "cog.yaml" in problem and "\n" not in problem, problem
        outcome = "refused"
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    return outcome


def test_the_corpus_is_generated_the_same_every_time() -> None:
    assert len(CASES) == CORPUS_SIZE
    assert [(c.name, c.content) for c in _corpus()] == [(c.name, c.content) for c in CASES]
    assert len({c.content for c in CASES}) > CORPUS_SIZE * 0.9  # few mutations happen to coincide


def test_every_case_loads_or_is_refused_clearly(tmp_path: Path) -> None:
    counts = {"accepted": 0, "refused": 0}
    failures = []
    for n, case in enumerate(CASES):
        model_dir = _write(tmp_path, n, case)
        try:
            counts[_outcome(model_dir)] += 1
        except Exception as err:  # noqa: BLE001 - every failure is reported, with its case
            where = traceback.format_exception(err)[-2].strip().splitlines()[0] if err.__traceback__ else ""
            failures.append(f"{case.name}: {type(err).__name__}: {str(err)[:300]} ({where})")
    print(f"\ncog.yaml fuzz corpus: {len(CASES)} cases, {counts['accepted']} accepted, {counts['refused']} refused")
    assert failures == []
    assert counts["accepted"] + counts["refused"] == CORPUS_SIZE
    assert counts["accepted"] >= len(BASES)  # the realistic files as written load
    assert counts["refused"] >= CORPUS_SIZE * 0.75  # and the corpus stays adversarial


def test_the_realistic_files_load_as_written(tmp_path: Path) -> None:
    for n, case in enumerate(CASES[: len(BASES)]):
        assert _outcome(_write(tmp_path, n, case)) == "accepted", case.name


def test_lock_check_on_a_sample_exits_1_without_a_traceback(tmp_path: Path) -> None:
    sample = random.Random(SEED).sample(range(len(CASES)), CLI_SAMPLE)
    runner = CliRunner()
    for n in sample:
        case = CASES[n]
        model_dir = _write(tmp_path, n, case)
        started = time.perf_counter()
        result = runner.invoke(cli, ["lock", "--check", str(model_dir)])
        assert time.perf_counter() - started < 1.0, case.name
        # no lock.json here: a valid cog.yaml gets "no lock.json", exit 1 too
        assert result.exit_code == 1, (case.name, result.output)
        assert isinstance(result.exception, SystemExit), (case.name, result.exception)
        assert "Traceback" not in result.output and "error: " in result.output, (case.name, result.output)


@pytest.mark.parametrize("name", ["deep flow list", "deep through aliases", "many values", "broken hex",
                                  "huge integer", "binary", "set", "bad timestamp", "requirements a device"])
def test_each_bound_names_its_place(tmp_path: Path, name: str) -> None:
    expected = {
        "deep flow list": "cog.yaml:1:39: nested more than 32 levels deep",
        "deep through aliases": "cog.yaml:269:7: nested more than 32 levels deep",
        "many values": "cog.yaml:1:20009: more than 10000 values (keys, list items, scalars); a cog.yaml has a "
                       "few hundred",
        "broken hex": "cog.yaml:2:8: '0x_' is not a valid int",
        "huge integer": "cog.yaml:2:8: a number 5000 characters long; no cog.yaml value is one",
        "binary": "cog.yaml:1:10: the YAML tag !!binary is not accepted",
        "set": "cog.yaml:2:20: the YAML tag !!set is not accepted",
        "bad timestamp": "cog.yaml:2:19: build.python_version: expected a version like '3.11' or '3.11.4', got "
                         "'2001-13-45'",
        "requirements a device": "cog.yaml:2:24: build.python_requirements: '",
    }[name]
    case = next(c for c in CASES if c.name == name)
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, 0, case))
    assert info.value.problems[0].startswith(expected), info.value.problems
    if name == "requirements a device":  # shown relative to the model directory, however deep that is
        assert info.value.problems[0].endswith("dev/zero' is outside the model directory; requirements files must "
                                               "be inside it, as in Cog's build context")


def test_a_fifo_in_the_model_directory_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "predict.py").write_text("")
    os.mkfifo(tmp_path / "requirements.txt")  # reading it would block forever
    (tmp_path / "cog.yaml").write_text("build:\n  python_requirements: requirements.txt\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.problems == ["cog.yaml:2:24: build.python_requirements: cannot read 'requirements.txt': "
                                   "not a regular file"]


def test_a_merge_key_is_overridden_without_a_duplicate(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "merge key")
    assert [step.command for step in load_config(_write(tmp_path, 0, case)).build.run] == ["echo one", "echo two"]


def test_an_invisible_character_in_a_key_is_shown(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "BOM mid-file")
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, 0, case))
    assert info.value.problems == ["cog.yaml:3:1: '\\ufeffpredict': unknown key; did you mean 'predict'?"]


def test_many_problems_are_listed_up_to_a_bound(tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == "many errors through aliases")
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, 0, case))
    assert len(info.value.problems) == 101
    assert info.value.problems[-1].startswith("cog.yaml: and ") and info.value.problems[-1].endswith(" more problems")
