"""Choosing exactly one wheel per package for the target, and reading uv's outputs."""

from __future__ import annotations

import random

import pytest

from cognix.errors import LockError
from cognix.lock.python import Candidate, Pin, choose_wheel, parse_edges, parse_pylock, resolution_error, split_options
from cognix.lock.target import make_target

TARGET = make_target("3.11", glibc="2.36", debian_suite="bookworm")


def cands(*names: str) -> list[Candidate]:
    return [Candidate(filename=n, url=f"https://index.invalid/{n}", sha256="0" * 64, size=1) for n in names]


def test_most_specific_native_wheel_wins_regardless_of_order():
    names = [
        "numpy-2.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "numpy-2.0.0-cp311-cp311-manylinux_2_28_x86_64.whl",
        "numpy-2.0.0-cp311-cp311-manylinux_2_39_x86_64.whl",  # needs a newer glibc than the target's
        "numpy-2.0.0-cp311-cp311-musllinux_1_1_x86_64.whl",
        "numpy-2.0.0-cp311-cp311-macosx_14_0_arm64.whl",
        "numpy-2.0.0-cp312-cp312-manylinux_2_28_x86_64.whl",
    ]
    for _ in range(5):
        random.shuffle(names)
        assert choose_wheel("numpy", "2.0.0", cands(*names), TARGET).filename == (
            "numpy-2.0.0-cp311-cp311-manylinux_2_28_x86_64.whl")


def test_abi3_beats_pure_python():
    chosen = choose_wheel("foo", "1.0", cands("foo-1.0-py3-none-any.whl", "foo-1.0-cp38-abi3-manylinux2014_x86_64.whl"),
                          TARGET)
    assert chosen.filename == "foo-1.0-cp38-abi3-manylinux2014_x86_64.whl"


def test_tie_broken_by_filename():
    names = ["foo-1.0-py3-none-any.whl", "foo-1.0-py2.py3-none-any.whl"]
    assert choose_wheel("foo", "1.0", cands(*names), TARGET).filename == "foo-1.0-py2.py3-none-any.whl"
    assert choose_wheel("foo", "1.0", cands(*reversed(names)), TARGET).filename == "foo-1.0-py2.py3-none-any.whl"


def test_no_compatible_wheel_names_the_package():
    with pytest.raises(LockError, match=r"bar==2\.0 has no wheel"):
        choose_wheel("bar", "2.0", cands("bar-2.0-cp311-cp311-win_amd64.whl", "bar-2.0.tar.gz"), TARGET)


UV_REQS = """\
--index-url https://index.invalid/simple

anyio==4.16.0             # via httpx, starlette
h2==4.4.1                 # via httpx
hpack==4.2.0              # via h2
httpx==0.28.1             # via -r model.in
numpy==2.4.6              # via -r model.in
starlette==1.10.0         # via -r runtime.in
idna @ https://index.invalid/idna-3.20-py3-none-any.whl  # via -r model.in
typing-extensions==4.16.0  # via anyio, starlette
"""


def test_parse_edges():
    edges = parse_edges(UV_REQS)
    assert edges["hpack"] == Pin("4.2.0", frozenset({"h2"}), False)
    assert edges["httpx"] == Pin("0.28.1", frozenset(), True)
    assert edges["typing-extensions"] == Pin("4.16.0", frozenset({"anyio", "starlette"}), False)
    assert edges["starlette"].requested is True
    assert edges["idna"] == Pin(None, frozenset(), True)


PYLOCK = """\
lock-version = "1.0"
created-by = "uv"

[[packages]]
name = "NumPy"
version = "2.4.6"
sdist = { url = "https://index.invalid/numpy-2.4.6.tar.gz", size = 5, hashes = { sha256 = "aa" } }
[[packages.wheels]]
url = "https://index.invalid/numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
size = 16918164
hashes = { sha256 = "89cd" }

[[packages.wheels]]
url = "https://index.invalid/numpy-2.4.6-cp311-cp311-musllinux_1_2_x86_64.whl"
size = 1
hashes = { sha256 = "ff" }
"""


def test_parse_pylock():
    offered = parse_pylock(PYLOCK)["numpy"]
    version, files = offered.version, offered.wheels
    assert version == "2.4.6"
    assert offered.sdist is not None and (offered.sdist.filename, offered.sdist.size) == ("numpy-2.4.6.tar.gz", 5)
    assert [f.filename for f in files] == [
        "numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
        "numpy-2.4.6-cp311-cp311-musllinux_1_2_x86_64.whl",
    ]
    assert (files[0].size, files[0].sha256) == (16918164, "89cd")
    assert choose_wheel("numpy", version, files, TARGET) is files[0]


def test_sdist_only_error_names_package():
    stderr = ("error: No solution found when resolving dependencies\n  cause: Because all versions of docopt have no "
              "usable wheels and you require docopt, we can conclude that your requirements are unsatisfiable.\n\n"
              "hint: Wheels are required for `docopt` because building from source is disabled for all packages\n")
    err = resolution_error(stderr)
    assert "docopt has no wheel" in err.message
    assert "Traceback" not in err.message


def test_conflict_error_condensed():
    stderr = ("error: No solution found when resolving dependencies\n  cause: Because you require numpy==1.0 and "
              "numpy>=2, we can conclude that your requirements are unsatisfiable.\n")
    err = resolution_error(stderr)
    assert err.message.startswith("the Python requirements can't be resolved: No solution found")
    assert "numpy==1.0 and numpy>=2" in err.message
    assert "\n  fix:" in err.message


def test_split_options():
    rs = split_options(["numpy>=2  # comment", "# only a comment", "--extra-index-url https://a.invalid/simple",
                        "-i=https://b.invalid/simple", "--find-links https://c.invalid/links", ""])
    assert rs.lines == ["numpy>=2"]
    assert rs.index_url == "https://b.invalid/simple"
    assert rs.extra_index_urls == ["https://a.invalid/simple"]
    assert rs.find_links == ["https://c.invalid/links"]
    with pytest.raises(LockError, match="unsupported requirements option"):
        split_options(["--pre"])
