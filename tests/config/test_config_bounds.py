"""cog.yaml is parsed within bounds: huge files, alias bombs, many keys and control characters get one clear error
each, in well under a second, and never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cognix.config import load_config
from cognix.errors import ConfigError

BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
build: {python_version: "3.11", run: [*g]}
"""


def _problem(tmp_path: Path, text: str | bytes) -> str:
    (tmp_path / "predict.py").write_text("")
    path = tmp_path / "cog.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    started = time.monotonic()
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert time.monotonic() - started < 1.0
    return "\n".join(info.value.problems)


def test_an_alias_bomb_is_refused(tmp_path: Path) -> None:
    assert "cog.yaml: its aliases (*name) expand to more than 20000 values" in _problem(tmp_path, BOMB)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    text = 'build:\n  python_version: "3.11"\n' + "# padding\n" * 5_000_000
    expected = f"cog.yaml: the file is {len(text)} bytes; a cog.yaml may be at most 128 KiB"
    assert expected in _problem(tmp_path, text)


def test_a_hundred_thousand_keys(tmp_path: Path) -> None:
    text = "environment:\n" + "".join(f"  K{i}: v\n" for i in range(100_000))
    assert "a cog.yaml may be at most 128 KiB" in _problem(tmp_path, text)


def test_many_values_within_the_size_limit(tmp_path: Path) -> None:
    text = "v: &v [" + ",".join(["a"] * 400) + "]\nenvironment: [" + ",".join(["*v"] * 300) + "]\n"
    assert "expand to more than 20000 values" in _problem(tmp_path, text)


@pytest.mark.parametrize("yaml_text, where", [
    ('predict: "predict.py\\0:Predictor"\n', "cog.yaml:1:10: control character U+0000"),
    ('environment:\n  - "A=b\\x01c"\n', "cog.yaml:2:5: control character U+0001"),
    ('build:\n  run:\n    - "echo \\x1b[31m"\n', "cog.yaml:3:7: control character U+001B"),
])
def test_control_characters_are_refused_where_they_are(tmp_path: Path, yaml_text: str, where: str) -> None:
    assert where in _problem(tmp_path, yaml_text)


def test_tabs_and_newlines_in_commands_are_fine(tmp_path: Path) -> None:
    (tmp_path / "predict.py").write_text("")
    (tmp_path / "cog.yaml").write_text('build:\n  run:\n    - "printf \'a\\tb\'"\npredict: "predict.py:P"\n')
    assert load_config(tmp_path).build.run
