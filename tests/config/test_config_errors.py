"""Each kind of bad cog.yaml gives its one-line, located message."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from cognix.config import load_config
from cognix.errors import CognixError, ConfigError


def problems_for(tmp_path: Path, text: str, **files: str) -> list[str]:
    (tmp_path / "cog.yaml").write_text(textwrap.dedent(text).lstrip("\n"))
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    for problem in info.value.problems:
        assert "\n" not in problem
    return info.value.problems


def test_missing_cog_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.problems == [f"no cog.yaml in {tmp_path}"]
    assert "Cog project" in (info.value.fix or "")
    assert isinstance(info.value, CognixError)


def test_other_filename_is_named(tmp_path: Path) -> None:
    (tmp_path / "alt.yaml").write_text("build:\n  gpu: 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, "alt.yaml")
    assert info.value.problems == ["alt.yaml:2:8: build.gpu: expected true or false, got 3"]


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, 'build:\n  gpu: true\n  python_version: "3.11\n')
    assert len(problems) == 1
    assert problems[0].startswith("cog.yaml:4:1: invalid YAML: ")


def test_yaml_bad_indentation(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "build:\n  gpu: true\n python_version: '3.11'\n")
    assert problems == ["cog.yaml:3:2: invalid YAML: expected <block end>, but found '<block mapping start>'"]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "- build\n")
    assert problems == ["cog.yaml:1:1: expected a mapping of keys (build, predict, ...) at the top level"]


def test_unknown_key_with_suggestion(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        """
        build:
          python_version: "3.11"
          python_pakages:
            - numpy
        """,
    )
    assert problems == ["cog.yaml:3:3: build.python_pakages: unknown key; did you mean 'python_packages'?"]


def test_unknown_top_level_key_without_close_match(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "predict: predict.py:P\nzzz: 1\n")
    assert problems == [
        "cog.yaml:2:1: zzz: unknown key; expected one of: build, concurrency, environment, image, model, "
        "predict, run, train, weights"
    ]


def test_unknown_top_level_key_suggests(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "predcit: predict.py:P\n")
    assert problems == ["cog.yaml:1:1: predcit: unknown key; did you mean 'predict'?"]


def test_wrong_type(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, 'build:\n  gpu: "maybe"\n  system_packages: ffmpeg\n')
    assert problems == [
        "cog.yaml:2:8: build.gpu: expected true or false, got 'maybe'",
        "cog.yaml:3:20: build.system_packages: expected a list, got 'ffmpeg'",
    ]


def test_packages_and_requirements_together(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        """
        build:
          python_packages: ["numpy"]
          python_requirements: requirements.txt
        """,
        **{"requirements.txt": "numpy\n"},
    )
    assert problems == [
        "cog.yaml:3:3: build.python_requirements: cannot be used together with python_packages; "
        "keep one (python_packages is deprecated)"
    ]


def test_requirements_file_missing(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "build:\n  python_requirements: reqs.txt\n")
    assert problems == ["cog.yaml:2:24: build.python_requirements: cannot read 'reqs.txt': no such file"]


def test_requirements_file_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    problems = problems_for(tmp_path, "build:\n  python_requirements: reqs\n")
    assert problems == [
        "cog.yaml:2:24: build.python_requirements: 'reqs' is a directory, not a requirements file"
    ]


SUPPORTED = "3.8 to 3.14 (a patch such as '3.11.4' means that minor)"


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("3.99", "unsupported Python version '3.99'; supported: " + SUPPORTED),
        ("3.1", "unsupported Python version '3.1'; supported: " + SUPPORTED),
        ('"3.7.9"', "unsupported Python version '3.7.9'; supported: " + SUPPORTED),
        ('"2.7"', "unsupported Python version '2.7'; supported: " + SUPPORTED),
        ('"3"', "expected a version like '3.11' or '3.11.4', got '3'; supported: " + SUPPORTED),
    ],
)
def test_unsupported_python_version(tmp_path: Path, version: str, message: str) -> None:
    problems = problems_for(tmp_path, f"build:\n  python_version: {version}\n")
    assert problems == [f"cog.yaml:2:19: build.python_version: {message}"]


@pytest.mark.parametrize("version", ["3.8", "3.9", "3.10", "3.12", '"3.11.1"', "3.14", '"3.14.0"'])
def test_every_cog_python_version_is_accepted(tmp_path: Path, version: str) -> None:
    (tmp_path / "cog.yaml").write_text(f"build:\n  python_version: {version}\n")
    assert load_config(tmp_path).build.python_minor == version.strip('"')[:4].rstrip(".")


def test_bad_environment(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        """
        environment:
          - PATH=/opt/bin
          - CUDA_HOME=/x
          - 1BAD=x
          - GOOD=1
          - GOOD=2
        """,
    )
    assert problems == [
        "cog.yaml:2:5: environment[0]: PATH cannot be set here (Cog reserves it)",
        "cog.yaml:3:5: environment[1]: CUDA_HOME cannot be set here (names starting with CUDA_ are reserved)",
        "cog.yaml:4:5: environment[2]: expected NAME=value (NAME matching [A-Za-z_][A-Za-z0-9_]*), got '1BAD=x'",
        "cog.yaml:6:5: environment[4]: GOOD is already set by environment[3]",
    ]


def test_bad_weights(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        """
        weights:
          - src: weights/a
            dest: /src/weights
          - src: https://example.invalid/b.bin
            dest: /src/weights/b
          - src: c
            dest: /src/weights
          - dest: /opt/w
            mode: lazy
          - src: /etc/passwd
            dest: /src/d
            bucket: gs://b
        """,
    )
    assert problems == [
        "cog.yaml:5:5: weights[1].dest: '/src/weights/b' overlaps weights[0].dest '/src/weights'",
        "cog.yaml:7:5: weights[2].dest: '/src/weights' is already used by weights[0]",
        "cog.yaml:8:5: weights[3].src: required key is missing",
        "cog.yaml:8:11: weights[3].dest: expected a path under /src (e.g. /src/weights), got '/opt/w'",
        "cog.yaml:9:11: weights[3].mode: should be 'build' or 'runtime', got 'lazy'",
        "cog.yaml:10:10: weights[4].src: a local path must be relative and inside the model directory, "
        "got '/etc/passwd'",
        "cog.yaml:12:13: weights[4].bucket: expected a GCS bucket name (no gs://, no path), got 'gs://b'",
    ]


def test_run_step_with_newline_and_bad_mount(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        """
        build:
          run:
            - "echo a\\necho b"
            - command: echo c
              mounts:
                - type: cache
                  id: x
                  target: /x
            - 7
        """,
    )
    assert problems == [
        "cog.yaml:3:7: build.run[0].command: a command cannot contain a newline; split it into several steps",
        "cog.yaml:6:17: build.run[1].mounts[0].type: should be 'secret', got 'cache'",
        "cog.yaml:9:7: build.run[2]: expected a string or a mapping {command, mounts}, got 7",
    ]


def test_run_and_predict_both_set(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "predict: predict.py:A\nrun: predict.py:B\n")
    assert problems == ["cog.yaml:2:1: run: cannot be used together with 'predict' (an alias of 'run'); keep one"]


def test_bad_runner_reference_under_run_is_located_at_run(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "run: predict\n")
    assert problems == ["cog.yaml:1:6: run: expected 'file.py:Name', got 'predict'"]


def test_concurrency_and_image_model(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "concurrency:\n  max: 0\nimage: a\nmodel: me/model\n")
    assert problems == [
        "cog.yaml:2:8: concurrency.max: should be greater than or equal to 1, got 0",
        "cog.yaml:4:1: model: cannot be used together with 'image'",
    ]


def test_duplicate_key(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "predict: predict.py:A\npredict: predict.py:B\n")
    assert problems == ["cog.yaml:2:1: predict: duplicate key"]


def test_all_problems_are_collected(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        """
        build:
          gpu: maybe
          cuda: "10.2"
          python_version: "2.7"
        predict: predict.py:P
        run: predict.py:P
        environment: [PYTHONPATH=/x]
        """,
    )
    assert [p.split(": ", 2)[1] for p in problems] == [
        "build.gpu",
        "build.cuda",
        "build.python_version",
        "run",
        "environment[0]",
    ]


def test_bad_requirement_line_in_file_is_located(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        "build:\n  python_requirements: requirements.txt\n",
        **{"requirements.txt": "# pinned\nnumpy==1.26\n  torch>=<2\n"},
    )
    assert len(problems) == 1
    assert problems[0].startswith("requirements.txt:3:3: invalid requirement 'torch>=<2': ")


def test_unacceptable_character_is_located(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "build:\n  gpu: tr\x00ue\n")
    assert problems == ["cog.yaml:2:10: invalid YAML: unacceptable character #x0000"]


def test_recursive_alias(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "environment: &a [*a]\n")
    assert problems == ["cog.yaml: invalid YAML: an alias refers to itself"]


def test_non_string_key_is_an_unknown_key(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "build:\n  1: x\n")
    assert problems[0].startswith("cog.yaml:2:3: build.1: unknown key; expected one of: cuda, cudnn, gpu,")


def test_environment_value_with_newline(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, 'environment: ["A=1\\nB=2"]\n')
    assert problems == [
        "cog.yaml:1:15: environment[0]: expected NAME=value (NAME matching [A-Za-z_][A-Za-z0-9_]*), got 'A=1\\nB=2'"
    ]


def test_concurrency_above_one_needs_python_311(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "build:\n  python_version: 3.10\nconcurrency:\n  max: 4\n")
    assert problems == ["cog.yaml:4:3: concurrency.max: a value above 1 needs python_version 3.11 or newer"]


@pytest.mark.parametrize("ref", ["predict.py:Predictor\n", "predict.py:Pred>ictor", "predict.py:", "predict.py:1x",
                                 "my model.py:Predictor", "predict.py:Predictor:extra"])
def test_a_runner_reference_names_a_file_and_an_identifier(tmp_path: Path, ref: str) -> None:
    problems = problems_for(tmp_path, f"predict: {json.dumps(ref)}\n")
    assert problems == [f"cog.yaml:1:10: predict: expected 'file.py:Name', got {ref!r}"]


@pytest.mark.parametrize("ref", ["predict.py:Predictor", "src/model/predict.py:predict", "p.py:_Private2"])
def test_runner_references_cog_accepts(tmp_path: Path, ref: str) -> None:
    (tmp_path / "cog.yaml").write_text(f"predict: {json.dumps(ref)}\n")
    assert load_config(tmp_path).predict == ref
