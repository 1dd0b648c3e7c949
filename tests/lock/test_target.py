"""Target: tags for the image's interpreter and glibc."""

from __future__ import annotations

import pytest
from packaging.tags import Tag

from cognix.errors import LockError
from cognix.lock.target import make_target, platform_tags, supported_tags, uv_platform


def test_platform_tags_most_specific_first_with_legacy_aliases():
    tags = platform_tags("2.36")
    assert tags[0] == "manylinux_2_36_x86_64"
    assert tags[-1] == "linux_x86_64"
    assert "manylinux_2_37_x86_64" not in tags
    # legacy aliases sit right after the glibc level they stand for
    assert tags.index("manylinux2014_x86_64") == tags.index("manylinux_2_17_x86_64") + 1
    assert tags.index("manylinux2010_x86_64") == tags.index("manylinux_2_12_x86_64") + 1
    assert tags.index("manylinux1_x86_64") == tags.index("manylinux_2_5_x86_64") + 1
    assert len(tags) == len(set(tags))


def test_make_target_given_glibc():
    t = make_target("3.12", glibc="2.41", debian_suite="trixie")
    assert (t.python_version, t.abi, t.glibc, t.debian_suite) == ("3.12", "cp312", "2.41", "trixie")
    assert t.platform_tags[0] == "manylinux_2_41_x86_64"


def test_make_target_accepts_patch_version():
    assert make_target("3.11.4", glibc="2.36").python_version == "3.11"


def test_supported_tags_order():
    tags = supported_tags(make_target("3.11", glibc="2.36"))
    ranks = {t: i for i, t in enumerate(tags)}
    best_native = Tag("cp311", "cp311", "manylinux_2_36_x86_64")
    assert tags[0] == best_native
    assert ranks[Tag("cp311", "abi3", "manylinux_2_17_x86_64")] > ranks[Tag("cp311", "cp311", "manylinux_2_17_x86_64")]
    assert ranks[Tag("py3", "none", "any")] > ranks[Tag("cp311", "abi3", "manylinux2014_x86_64")]
    assert Tag("cp312", "cp312", "manylinux_2_17_x86_64") not in ranks
    assert Tag("cp311", "cp311", "musllinux_1_2_x86_64") not in ranks


@pytest.mark.parametrize(("glibc", "expected"), [
    ("2.36", "x86_64-manylinux_2_36"), ("2.41", "x86_64-manylinux_2_40"), ("2.30", "x86_64-manylinux_2_28"),
    ("2.17", "x86_64-manylinux_2_17"),
])
def test_uv_platform(glibc, expected):
    assert uv_platform(make_target("3.11", glibc=glibc)) == expected


def test_uv_platform_too_old():
    with pytest.raises(LockError, match="too old"):
        uv_platform(make_target("3.11", glibc="2.12"))
