"""Defaults, normalisation, the run/predict alias and the run.cog.config shape."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from cognix.config import CogConfig, RunStep, WeightSpec, load_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(tmp_path: Path, text: str) -> CogConfig:
    (tmp_path / "cog.yaml").write_text(textwrap.dedent(text).lstrip("\n"))
    return load_config(tmp_path)


def test_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, "predict: predict.py:Predictor\n")
    assert config.build.gpu is False
    assert config.build.python_version == "3.13"
    assert config.build.python_minor == "3.13"
    assert config.build.cuda is None and config.build.cudnn is None
    assert config.build.python_packages is None and config.build.python_requirements is None
    assert config.build.system_packages == [] and config.build.run == [] and config.build.pre_install == []
    assert config.train is None and config.image is None and config.model is None
    assert config.concurrency is None and config.environment == [] and config.weights == []


def test_empty_file_is_all_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, "# nothing yet\n")
    assert config.predict is None
    assert config.cog_json() == {"build": {"python_version": "3.13"}}


def test_null_values_count_as_absent(tmp_path: Path) -> None:
    config = load(tmp_path, "build:\n  system_packages:\n  python_version:\npredict:\n")
    assert config.build.system_packages == [] and config.build.python_version == "3.13"


@pytest.mark.parametrize(
    ("written", "version", "minor"),
    [("3.10", "3.10", "3.10"), ("3.11", "3.11", "3.11"), ('"3.11.4"', "3.11.4", "3.11"), ("3.12.1", "3.12.1", "3.12")],
)
def test_python_version_as_number_or_string(tmp_path: Path, written: str, version: str, minor: str) -> None:
    # An unquoted 3.10 is the YAML float 3.1: the loader keeps the text as written.
    config = load(tmp_path, f"build:\n  python_version: {written}\n")
    assert config.build.python_version == version
    assert config.build.python_minor == minor
    assert config.python_minor == minor


def test_cuda_as_number(tmp_path: Path) -> None:
    config = load(tmp_path, "build:\n  gpu: true\n  cuda: 12.10\n  cudnn: 9\n")
    assert config.build.cuda == "12.10" and config.build.cudnn == "9"


def test_run_steps_are_normalised(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        build:
          run:
            - echo one
            - command: echo two
              mounts:
                - type: secret
                  id: token
                  target: /run/secrets/token
          pre_install:
            - echo three
        """,
    )
    assert config.build.run[0] == RunStep(command="echo one")
    assert config.build.run[1].command == "echo two"
    mount = config.build.run[1].mounts[0]
    assert mount.model_dump() == {"type": "secret", "id": "token", "target": "/run/secrets/token"}
    assert [s.command for s in config.build.all_run_steps] == ["echo one", "echo two", "echo three"]


def test_run_is_an_alias_of_predict(tmp_path: Path) -> None:
    config = load(tmp_path, "run: predict.py:Predictor\ntrain: train.py:train\n")
    assert config.predict == "predict.py:Predictor"
    assert config.cog_json()["predict"] == "predict.py:Predictor"
    assert "run" not in config.cog_json()


def test_run_and_predict_in_python() -> None:
    with pytest.raises(ValidationError):
        CogConfig.model_validate({"run": "a.py:A", "predict": "a.py:B"})
    assert CogConfig.model_validate({"run": "a.py:A"}).predict == "a.py:A"


def test_cog_json_minimal_matches_cog_example() -> None:
    config = load_config(EXAMPLES / "hello")
    assert json.dumps(config.cog_json(), separators=(",", ":")) == (
        '{"build":{"python_version":"3.11"},"predict":"predict.py:Predictor"}'
    )


def test_cog_json_full(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("numpy\n")
    config = load(
        tmp_path,
        """
        build:
          gpu: true
          cuda: "12.1"
          python_version: "3.11"
          python_requirements: requirements.txt
          system_packages: [ffmpeg]
          run:
            - echo hi
            - command: cat /run/secrets/t
              mounts: [{type: secret, id: t, target: /run/secrets/t}]
          sdk_version: "0.16.5"
        image: r8.im/me/model
        run: predict.py:Predictor
        concurrency: {max: 4}
        environment: [B=2, A=1]
        weights:
          - src: weights/
            dest: /src/weights/
            include: ["*.safetensors"]
          - src: gs://bucket/prefix
            dest: /src/big
            mode: runtime
            bucket: my-bucket
        """,
    )
    assert config.cog_json() == {
        "build": {
            "gpu": True,
            "python_version": "3.11",
            "python_requirements": "requirements.txt",
            "run": [
                {"command": "echo hi"},
                {
                    "command": "cat /run/secrets/t",
                    "mounts": [{"type": "secret", "id": "t", "target": "/run/secrets/t"}],
                },
            ],
            "system_packages": ["ffmpeg"],
            "cuda": "12.1",
            "sdk_version": "0.16.5",
        },
        "image": "r8.im/me/model",
        "predict": "predict.py:Predictor",
        "concurrency": {"max": 4},
        "environment": ["B=2", "A=1"],
        "weights": [
            {"src": "weights/", "dest": "/src/weights", "include": ["*.safetensors"], "mode": "build"},
            {"src": "gs://bucket/prefix", "dest": "/src/big", "mode": "runtime", "bucket": "my-bucket"},
        ],
    }
    assert list(config.cog_json()["build"]) == [
        "gpu", "python_version", "python_requirements", "run", "system_packages", "cuda", "sdk_version"
    ]
    assert config.environment_map() == {"A": "1", "B": "2"}


def test_weight_spec_defaults() -> None:
    spec = WeightSpec(src="weights", dest="/src/weights/./x/")
    assert spec.dest == "/src/weights/x"
    assert spec.mode == "build" and spec.include == [] and spec.exclude == [] and spec.bucket is None


def test_model_is_frozen(tmp_path: Path) -> None:
    config = load(tmp_path, "predict: predict.py:P\n")
    with pytest.raises(ValidationError):
        config.predict = "x.py:Y"  # type: ignore[misc]


def test_runtime_env_sets_runner_refs_after_environment(tmp_path):
    (tmp_path / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\ntrain: "train.py:train"\n'
        "concurrency:\n  max: 4\nenvironment:\n  - ZED=1\n  - COG_PREDICT_TYPE_STUB=ignored.py:X\n  - ALPHA=a=b\n"
    )
    env = load_config(tmp_path).runtime_env()
    assert list(env) == sorted(env)
    assert env == {
        "ALPHA": "a=b",
        "COG_MAX_CONCURRENCY": "4",
        "COG_PREDICT_TYPE_STUB": "predict.py:Predictor",
        "COG_TRAIN_TYPE_STUB": "train.py:train",
        "ZED": "1",
    }
