"""requirements_of: python_packages or the requirements file, includes and index options."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cognix.config import CogConfig, Requirements, load_config, requirements_of
from cognix.errors import ConfigError


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))


def test_no_requirements(tmp_path: Path) -> None:
    write(tmp_path / "cog.yaml", "predict: predict.py:P\n")
    assert requirements_of(tmp_path, load_config(tmp_path)) == Requirements()


def test_python_packages_with_options(tmp_path: Path) -> None:
    write(
        tmp_path / "cog.yaml",
        """
        build:
          python_packages:
            - "numpy==1.26.4"
            - "requests[socks]>=2.31 ; python_version >= '3.8'"
            - "--extra-index-url https://download.example.invalid/whl/cpu"
            - "-f ./wheels"
        """,
    )
    reqs = requirements_of(tmp_path, load_config(tmp_path))
    assert reqs.lines == ["numpy==1.26.4", "requests[socks]>=2.31 ; python_version >= '3.8'"]
    assert reqs.extra_index_urls == ["https://download.example.invalid/whl/cpu"]
    assert reqs.find_links == ["./wheels"]
    assert reqs.index_url is None


def test_requirements_file_with_includes_and_options(tmp_path: Path) -> None:
    write(tmp_path / "cog.yaml", "build:\n  python_requirements: requirements.txt\n")
    write(
        tmp_path / "requirements.txt",
        """
        # the model's requirements
        --index-url https://mirror.example.invalid/simple
        -r reqs/base.txt

        torch==2.3.1 ; platform_machine == "x86_64"  # pinned for CUDA
        pillow[webp] \\
            >=10
        ./wheels/local_pkg-1.0-py3-none-any.whl
        pkg @ https://files.example.invalid/pkg-1.0-py3-none-any.whl
        six==1.16.0 --hash=sha256:0000
        --pre
        """,
    )
    write(
        tmp_path / "reqs" / "base.txt",
        """
        -i=https://ignored.example.invalid/simple
        --extra-index-url=https://extra.example.invalid/simple
        --find-links ../links
        numpy>=1.26
        -r more.txt
        """,
    )
    write(tmp_path / "reqs" / "more.txt", "tqdm\n--only-binary :all:\n")
    reqs = requirements_of(tmp_path, load_config(tmp_path))
    assert reqs.lines == [
        "numpy>=1.26",
        "tqdm",
        'torch==2.3.1 ; platform_machine == "x86_64"',
        "pillow[webp] >=10",
        "./wheels/local_pkg-1.0-py3-none-any.whl",
        "pkg @ https://files.example.invalid/pkg-1.0-py3-none-any.whl",
        "six==1.16.0",
    ]
    # The last --index-url wins, as with pip.
    assert reqs.index_url == "https://ignored.example.invalid/simple"
    assert reqs.extra_index_urls == ["https://extra.example.invalid/simple"]
    assert reqs.find_links == ["../links"]
    assert reqs.options == ["--only-binary :all:", "--pre"]


def test_unreadable_include_is_located_in_including_file(tmp_path: Path) -> None:
    write(tmp_path / "cog.yaml", "build:\n  python_requirements: requirements.txt\n")
    write(tmp_path / "requirements.txt", "numpy\n-r sub/base.txt\n")
    write(tmp_path / "sub" / "base.txt", "# base\n  -r missing.txt\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.problems == ["sub/base.txt:2:3: -r missing.txt: cannot read 'sub/missing.txt': no such file"]


def test_include_cycle(tmp_path: Path) -> None:
    write(tmp_path / "cog.yaml", "build:\n  python_requirements: a.txt\n")
    write(tmp_path / "a.txt", "-r b.txt\n")
    write(tmp_path / "b.txt", "-r a.txt\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.problems == ["b.txt:1:1: -r a.txt: includes itself (through b.txt)"]


def test_unsupported_options(tmp_path: Path) -> None:
    write(tmp_path / "cog.yaml", "build:\n  python_requirements: requirements.txt\n")
    write(tmp_path / "requirements.txt", "-e .\n-c constraints.txt\n--frobnicate\n-i\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.problems == [
        "requirements.txt:1:1: -e: editable installs are not supported in an image",
        "requirements.txt:2:1: -c: constraints files are not supported; pin versions in the requirements",
        "requirements.txt:3:1: --frobnicate: unsupported option in requirements",
        "requirements.txt:4:1: -i: needs a value",
    ]


def test_python_packages_item_errors_are_located_in_cog_yaml(tmp_path: Path) -> None:
    write(tmp_path / "cog.yaml", "build:\n  python_packages:\n    - numpy\n    - 'not a == requirement'\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith(
        "cog.yaml:4:7: build.python_packages[1]: invalid requirement 'not a == requirement': "
    )


def test_config_built_in_python_still_gets_requirements(tmp_path: Path) -> None:
    write(tmp_path / "r.txt", "numpy\n")
    config = CogConfig.model_validate({"build": {"python_requirements": "r.txt"}})
    assert requirements_of(tmp_path, config).lines == ["numpy"]
    missing = CogConfig.model_validate({"build": {"python_requirements": "nope.txt"}})
    with pytest.raises(ConfigError) as info:
        requirements_of(tmp_path, missing)
    assert info.value.problems == ["cog.yaml: build.python_requirements: cannot read 'nope.txt': no such file"]


def test_index_options_after_a_requirement_are_split_off(tmp_path: Path) -> None:
    (tmp_path / "cog.yaml").write_text(
        'build:\n  python_packages:\n'
        '    - "torch==1.11.0 --extra-index-url=https://torch.invalid/whl/cu113"\n'
        '    - "torchvision==0.12.0 -f https://links.invalid/torch_stable.html"\n')
    reqs = requirements_of(tmp_path, load_config(tmp_path))
    assert reqs.lines == ["torch==1.11.0", "torchvision==0.12.0"]
    assert reqs.extra_index_urls == ["https://torch.invalid/whl/cu113"]
    assert reqs.find_links == ["https://links.invalid/torch_stable.html"]
