"""cog.yaml as every Cog release wrote it: each key some release accepted loads, ignored keys give one located
note each and leave the lock's input hash alone, Cog's own weights entries become cognix's."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cognix.cli.main import cli
from cognix.config import CogConfig, WeightSpec, load_config, requirements_of
from cognix.config.compat import COG_KEYS
from cognix.config.globs import gitignore_match
from cognix.errors import ConfigError
from cognix.lock.inputs import input_hash
from cognix.weights.sources import Candidate, select

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# The keys each cog.yaml schema release accepted (replicate/cog pkg/config/data/config_schema_v1.0.json, every
# tagged version; "[]" marks list items), and before the schema (v0.0.5 to v0.0.18) the yaml keys of config.go's
# structs. Releases in between (tags v0.0.20 to v0.7.0-beta16, ...) accept the same keys as the row above them.
RELEASE_KEYS: dict[str, list[str]] = {
    "v0.0.5-v0.0.18 (config.go, no schema)": [
        "build", "build.gpu", "build.python_version", "build.python_requirements", "build.python_extra_index_urls",
        "build.python_find_links", "build.python_packages", "build.system_packages", "build.pre_install",
        "build.cuda", "build.cudnn", "build.run", "image", "predict",
    ],
    "v0.0.19": [
        "build", "build.cuda", "build.gpu", "build.pre_install", "build.python_packages", "build.python_requirements",
        "build.python_version", "build.run", "build.system_packages", "image", "predict",
    ],
    "v0.7.0-beta17": ["train"],
    "v0.7.0-beta18": [
        "build.run[].command", "build.run[].mounts", "build.run[].mounts[].id", "build.run[].mounts[].target",
        "build.run[].mounts[].type",
    ],
    "v0.8.0-beta10": ["build.cudnn"],
    "v0.9.9": ["concurrency", "concurrency.default_target", "concurrency.max"],
    "v0.14.0": ["tests"],
    "v0.14.4": ["build.fast"],
    "v0.14.6": ["build.python_overrides"],
    "v0.14.9": ["environment"],
    "v0.15.11": ["build.cog_runtime"],
    "v0.17.0-alpha2": ["weights", "weights[].source", "weights[].target"],
    "v0.17.0-alpha4": ["weights[].name"],
    "v0.17.0-rc.1": ["build.sdk_version"],
    "v0.19.3": ["weights[].source.uri", "weights[].source.include", "weights[].source.exclude"],
    "v0.20.0": ["model", "run", "weights[].source[].uri", "weights[].source[].include", "weights[].source[].exclude"],
}

ERA_A = "weights:\n  - source: weights/model.safetensors\n"
ERA_A_TARGET = "weights:\n  - source: weights/model.safetensors\n    target: /cache/model.safetensors\n"
ERA_A_NAME = "weights:\n  - name: model-v1\n    source: weights/model.safetensors\n"
ERA_B = ("weights:\n  - name: base\n    target: /src/w\n    source:\n      uri: weights\n"
         "      include: ['*.safetensors']\n      exclude: ['*.bin']\n")
ERA_C = ("weights:\n  - name: base\n    target: /src/w\n    source:\n      - uri: weights\n"
         "        include: ['*.safetensors']\n        exclude: ['*.bin']\n")
MOUNT = ("build:\n  run:\n    - command: cat /run/secrets/t\n      mounts:\n        - type: secret\n          id: t\n"
         "          target: /run/secrets/t\n")
WEIGHT_NAME_NOTE = "cog.yaml:2:5: weights[0].name"

# A cog.yaml using each key, and the key paths of the notes it gives (ignored keys: exactly one, located at the key).
SAMPLES: dict[str, tuple[str, list[str]]] = {
    "build": ("build:\n  gpu: false\n", []),
    "build.gpu": ("build:\n  gpu: true\n", []),
    "build.cuda": ("build:\n  gpu: true\n  cuda: 11.8\n", []),
    "build.cudnn": ("build:\n  gpu: true\n  cudnn: '8'\n", []),
    "build.python_version": ("build:\n  python_version: 3.8\n", []),
    "build.python_requirements": ("build:\n  python_requirements: requirements.txt\n", []),
    "build.python_packages": ("build:\n  python_packages:\n    - numpy==1.21.1\n", []),
    "build.python_find_links": (
        "build:\n  python_packages: ['torch==1.9.0+cpu']\n  python_find_links:\n"
        "    - https://download.pytorch.org/whl/torch_stable.html\n", []),
    "build.python_extra_index_urls": (
        "build:\n  python_packages: [numpy]\n  python_extra_index_urls: ['https://pypi.example/simple']\n", []),
    "build.system_packages": ("build:\n  system_packages: [ffmpeg]\n", []),
    "build.pre_install": ("build:\n  pre_install:\n    - echo hi\n", []),
    "build.run": ("build:\n  run:\n    - echo hi\n", []),
    "build.run[].command": ("build:\n  run:\n    - command: echo hi\n", []),
    "build.run[].mounts": (MOUNT, []),
    "build.run[].mounts[].type": (MOUNT, []),
    "build.run[].mounts[].id": (MOUNT, []),
    "build.run[].mounts[].target": (MOUNT, []),
    "build.fast": ("build:\n  fast: true\n", ["cog.yaml:2:3: build.fast"]),
    "build.python_overrides": ("build:\n  python_overrides: overrides.txt\n", ["cog.yaml:2:3: build.python_overrides"]),
    "build.cog_runtime": ("build:\n  cog_runtime: true\n", ["cog.yaml:2:3: build.cog_runtime"]),
    "build.sdk_version": ("build:\n  sdk_version: '0.16.0'\n", ["cog.yaml:2:3: build.sdk_version"]),
    "image": ("image: r8.im/me/model\n", []),
    "predict": ("predict: predict.py:Predictor\n", []),
    "train": ("train: train.py:train\n", []),
    "concurrency": ("concurrency:\n  max: 1\n", []),
    "concurrency.max": ("concurrency:\n  max: 1\n", []),
    "concurrency.default_target": ("concurrency:\n  max: 1\n  default_target: 4\n",
                                   ["cog.yaml:3:3: concurrency.default_target"]),
    "tests": ("tests:\n  - inputs:\n      prompt: hi\n", ["cog.yaml:1:1: tests"]),
    "environment": ("environment:\n  - HF_HOME=/src/.hf\n", []),
    "weights": (ERA_A, []),
    "weights[].source": (ERA_A, []),
    "weights[].target": (ERA_A_TARGET, []),
    "weights[].name": (ERA_A_NAME, [WEIGHT_NAME_NOTE]),
    "weights[].source.uri": (ERA_B, [WEIGHT_NAME_NOTE]),
    "weights[].source.include": (ERA_B, [WEIGHT_NAME_NOTE]),
    "weights[].source.exclude": (ERA_B, [WEIGHT_NAME_NOTE]),
    "weights[].source[].uri": (ERA_C, [WEIGHT_NAME_NOTE]),
    "weights[].source[].include": (ERA_C, [WEIGHT_NAME_NOTE]),
    "weights[].source[].exclude": (ERA_C, [WEIGHT_NAME_NOTE]),
    "model": ("model: r8.im/me/model\n", []),
    "run": ("run: predict.py:Predictor\n", []),
}


def model_dir(tmp_path: Path, text: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "cog.yaml").write_text(textwrap.dedent(text).lstrip("\n"))
    (tmp_path / "requirements.txt").write_text("numpy==1.26.4\n")
    (tmp_path / "weights" / "sub").mkdir(parents=True, exist_ok=True)
    (tmp_path / "weights" / "model.safetensors").write_bytes(b"w")
    (tmp_path / "weights" / "sub" / "extra.bin").write_bytes(b"x")
    return tmp_path


def load(tmp_path: Path, text: str) -> CogConfig:
    return load_config(model_dir(tmp_path, text))


def problems_for(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return info.value.problems


def note_paths(config: CogConfig) -> list[str]:
    return [n.split(": ignored: ")[0] for n in config.notices]


def _releases(key: str) -> str:
    return ", ".join(r for r, keys in RELEASE_KEYS.items() if key in keys)


def test_every_release_key_has_a_sample_and_a_row_in_compat() -> None:
    keys = {k for keys in RELEASE_KEYS.values() for k in keys}
    assert keys == set(SAMPLES)
    assert keys <= set(COG_KEYS)
    for key, (text, _notes) in SAMPLES.items():
        assert key.replace("[]", "").split(".")[-1] in text, key


@pytest.mark.parametrize("key", sorted(SAMPLES), ids=lambda k: f"{k} [{_releases(k)}]")
def test_every_key_of_every_release_loads(tmp_path: Path, key: str) -> None:
    text, notes = SAMPLES[key]
    config = load(tmp_path, text)
    assert note_paths(config) == notes
    for note in config.notices:
        assert "\n" not in note and ": ignored: " in note


def test_ignored_keys_each_give_one_located_note(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        build:
          python_version: "3.11"
          fast: true
          cog_runtime: false
          python_overrides: overrides.txt
          python_requirements: requirements.txt
        concurrency:
          max: 1
          default_target: 2
        tests:
          - inputs: {prompt: hi}
        predict: predict.py:Predictor
        """,
    )
    assert config.notices == (
        "cog.yaml:3:3: build.fast: ignored: cognix images always build from the lock (Cog's fast builds change how "
        "Cog builds, not what the image holds)",
        "cog.yaml:4:3: build.cog_runtime: ignored: cognix images always run cognix's runtime, which serves Cog's "
        "HTTP API (Cog used it to pick its experimental cog-runtime server)",
        "cog.yaml:5:3: build.python_overrides: ignored: Cog applied it only to fast builds (build.fast); cognix "
        "resolves python_requirements alone, as Cog's standard builds do: pin the versions you need there",
        "cog.yaml:9:3: concurrency.default_target: ignored: an autoscaling hint for Replicate deployments; nothing "
        "in the image reads it (Cog's run.cog.config label leaves it out too)",
        "cog.yaml:10:1: tests: ignored: the test predictions Cog asked for before fast pushes; cognix runs no "
        "predictions at build time",
    )
    assert [i.path for i in config.ignored] == [
        ("build", "fast"), ("build", "cog_runtime"), ("build", "python_overrides"),
        ("concurrency", "default_target"), ("tests",),
    ]


def test_a_key_written_without_a_value_is_absent_and_not_noted(tmp_path: Path) -> None:
    assert load(tmp_path, "build:\n  fast:\n  cog_runtime:\ntests:\n").notices == ()


def test_ignored_keys_keep_the_input_hash_and_the_label(tmp_path: Path) -> None:
    plain = model_dir(tmp_path / "a", "build:\n  python_version: '3.11'\n  python_requirements: requirements.txt\n"
                      "concurrency:\n  max: 2\npredict: predict.py:Predictor\n")
    noisy = model_dir(tmp_path / "b", "build:\n  python_version: '3.11'\n  python_requirements: requirements.txt\n"
                      "  fast: true\n  cog_runtime: true\n  python_overrides: o.txt\nconcurrency:\n  max: 2\n"
                      "  default_target: 3\ntests: [{inputs: {a: 1}}]\npredict: predict.py:Predictor\n")
    a, b = load_config(plain), load_config(noisy)
    assert a.cog_json() == b.cog_json()
    assert b.cog_json()["concurrency"] == {"max": 2}
    assert input_hash(a, plain) == input_hash(b, noisy)


def test_ignored_keys_have_their_schema_types(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "build:\n  fast: maybe\n  python_overrides: 3\nconcurrency:\n  max: 1\n"
                                      "  default_target: x\ntests: [3]\n")
    assert problems == [
        "cog.yaml:2:9: build.fast: expected true or false, got 'maybe'",
        "cog.yaml:3:21: build.python_overrides: expected a string, got 3",
        "cog.yaml:6:19: concurrency.default_target: expected an integer, got 'x'",
        "cog.yaml:7:9: tests[0]: expected a mapping, got 3",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("build:\n  fsat: true\n", "cog.yaml:2:3: build.fsat: unknown key; did you mean 'fast'?"),
        ("build:\n  cog_runtme: true\n", "cog.yaml:2:3: build.cog_runtme: unknown key; did you mean 'cog_runtime'?"),
        ("test: []\n", "cog.yaml:1:1: test: unknown key; did you mean 'tests'?"),
        ("concurrency:\n  max: 1\n  default_targe: 2\n",
         "cog.yaml:3:3: concurrency.default_targe: unknown key; did you mean 'default_target'?"),
        ("build:\n  python_find_link: [x]\n",
         "cog.yaml:2:3: build.python_find_link: unknown key; did you mean 'python_find_links'?"),
    ],
)
def test_unknown_keys_still_fail_with_a_suggestion(tmp_path: Path, text: str, problem: str) -> None:
    assert problems_for(tmp_path, text) == [problem]


def test_a_key_no_release_accepted_is_unknown(tmp_path: Path) -> None:
    # build.env only ever lived in the unreleased v1.1 schema.
    problems = problems_for(tmp_path, "build:\n  env: [A=1]\n")
    assert len(problems) == 1 and problems[0].startswith("cog.yaml:2:3: build.env: unknown key; expected one of: ")
    # Ignored keys are suggested, not listed as expected.
    assert "fast" not in problems[0] and "python_version" in problems[0]


def test_first_release_shape_is_refused_with_what_replaced_it(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        """
        model: "model.py:JazzSoloComposerModel"
        environment:
          python_version: "3.8"
          architectures: [cpu]
        examples: []
        """,
    )
    assert problems == [
        "cog.yaml:1:8: model: expected an image repository such as 'r8.im/me/model', got the runner reference "
        "'model.py:JazzSoloComposerModel': that goes under 'run' (Cog's first releases called it model)",
        "cog.yaml:2:1: environment: a mapping of build settings is the cog.yaml of Cog's first releases (v0.0.1 to "
        "v0.0.4); since v0.0.5 they go under 'build', the predictor under 'predict' (not 'model'), and "
        "'environment' is a list of NAME=value",
        "cog.yaml:5:1: examples: a key of Cog's first releases (v0.0.1 to v0.0.4), which no later release reads; "
        "remove it",
    ]


def test_concurrency_as_an_integer(tmp_path: Path) -> None:
    # v0.10.0-alpha4 to alpha8 wrote `concurrency: N`.
    config = load(tmp_path, "build:\n  python_version: '3.11'\nconcurrency: 4\n")
    assert config.concurrency is not None and config.concurrency.max == 4
    assert config.runtime_env()["COG_MAX_CONCURRENCY"] == "4"


@pytest.mark.parametrize("version", ["3.8", "3.9", "3.10"])
def test_concurrency_above_one_needs_python_311_in_every_release(tmp_path: Path, version: str) -> None:
    problems = problems_for(tmp_path, f"build:\n  python_version: '{version}'\nconcurrency:\n  max: 2\n")
    assert problems == ["cog.yaml:4:3: concurrency.max: a value above 1 needs python_version 3.11 or newer"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("r8.im/me/model:latest", "must be a bare repository (tags and digests are not allowed), got "
                                  "'r8.im/me/model:latest'"),
        ("me/model@sha256:" + "a" * 64, "must be a bare repository (tags and digests are not allowed), got "
                                        f"'me/model@sha256:{'a' * 64}'"),
        ("Me/Model", "expected an image repository such as 'r8.im/me/model' (lowercase), got 'Me/Model'"),
    ],
)
def test_model_is_a_bare_repository(tmp_path: Path, value: str, message: str) -> None:
    assert problems_for(tmp_path, f"model: '{value}'\n") == [f"cog.yaml:1:8: model: {message}"]


@pytest.mark.parametrize("value", ["r8.im/me/model", "localhost:5000/me/m", "me/model", "ubuntu"])
def test_model_repositories_cog_accepts(tmp_path: Path, value: str) -> None:
    assert load(tmp_path, f"model: {value}\n").model == value


def test_find_links_honoured_with_python_packages(tmp_path: Path) -> None:
    config = load(tmp_path, SAMPLES["build.python_find_links"][0])
    reqs = requirements_of(tmp_path, config)
    assert reqs.lines == ["torch==1.9.0+cpu"]
    assert reqs.find_links == ["https://download.pytorch.org/whl/torch_stable.html"]
    config = load(tmp_path, SAMPLES["build.python_extra_index_urls"][0])
    assert requirements_of(tmp_path, config).extra_index_urls == ["https://pypi.example/simple"]


def test_find_links_ignored_without_python_packages(tmp_path: Path) -> None:
    config = load(tmp_path, "build:\n  python_requirements: requirements.txt\n  python_find_links: [https://x/w]\n")
    assert config.notices == (
        "cog.yaml:3:3: build.python_find_links: ignored: Cog (v0.0.5 to v0.0.18) passed it to pip only for "
        "build.python_packages; with a requirements file, write `--find-links URL` in that file",
    )
    assert requirements_of(tmp_path, config).find_links == []


# ---- Cog's weights -----------------------------------------------------------------------------------------------


def specs(config: CogConfig) -> list[dict]:
    return [w.model_dump() for w in config.weights]


def test_cog_weights_v017_a_file_mounted_at_its_target(tmp_path: Path) -> None:
    config = load(tmp_path, "weights:\n  - source: weights/model.safetensors\n  - source: ./weights/sub\n"
                            "    target: /cache/sub\n")
    assert specs(config) == [
        {"src": "weights/model.safetensors", "dest": "/cache", "include": [], "exclude": [], "mode": "build",
         "bucket": None},  # Cog's default target: /cache/<basename>
        {"src": "weights/sub", "dest": "/cache/sub", "include": [], "exclude": [], "mode": "build", "bucket": None},
    ]
    assert config.notices == ()


def test_cog_weights_v017_a_file_keeps_its_name(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "weights:\n  - source: weights/model.safetensors\n    target: /cache/m.st\n")
    assert problems == ["cog.yaml:3:13: weights[0].target: cognix places a weights file under its own name: write "
                        "'/cache/model.safetensors', or rename the file"]


def test_cog_weights_v0193_and_v020(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        model: r8.im/me/model
        weights:
          - name: base
            target: /src/models/base
            source:
              uri: file://./weights
              include: ["*.safetensors"]
          - name: lora.v2
            target: /opt/lora
            source:
              - uri: huggingface://acme/lora@main
                exclude: ["onnx/*"]
              - uri: hf://acme/extra@v2
              - uri: https://example.com/files/adapter.bin
        """,
    )
    assert specs(config) == [
        {"src": "weights", "dest": "/src/models/base", "include": ["*.safetensors"], "exclude": [], "mode": "build",
         "bucket": None, "globs": "gitignore"},
        {"src": "hf://acme/lora", "dest": "/opt/lora", "include": [], "exclude": ["onnx/*"], "mode": "build",
         "bucket": None, "globs": "gitignore"},
        {"src": "hf://acme/extra@v2", "dest": "/opt/lora", "include": [], "exclude": [], "mode": "build",
         "bucket": None},
        {"src": "https://example.com/files/adapter.bin", "dest": "/opt/lora", "include": [], "exclude": [],
         "mode": "build", "bucket": None},
    ]
    assert config.notices == (
        "cog.yaml:3:5: weights[0].name: ignored: it names the artifact Cog pushes beside the image; cognix builds "
        "these weights into the image at /src/models/base",
        "cog.yaml:8:5: weights[1].name: ignored: it names the artifact Cog pushes beside the image; cognix builds "
        "these weights into the image at /opt/lora",
    )


def test_cognix_weights_entries_hash_as_before(tmp_path: Path) -> None:
    spec = WeightSpec(src="weights", dest="/src/weights", include=["*.bin"])
    assert spec.model_dump() == {"src": "weights", "dest": "/src/weights", "include": ["*.bin"], "exclude": [],
                                 "mode": "build", "bucket": None}
    assert "globs" not in spec.model_dump(mode="json")


def test_cognix_and_cog_weights_side_by_side(tmp_path: Path) -> None:
    config = load(tmp_path, "weights:\n  - src: weights/sub\n    dest: /src/extra\n"
                            "  - {name: base, target: /src/base, source: {uri: weights}}\n"
                            "  - src: weights/model.safetensors\n    dest: /src/m\n    mode: build\n")
    assert [(w.src, w.dest) for w in config.weights] == [
        ("weights/sub", "/src/extra"), ("weights", "/src/base"), ("weights/model.safetensors", "/src/m")]


def test_cognix_weights_errors_keep_their_place_after_a_cog_entry_with_several_sources(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "weights:\n  - name: a\n    target: /x\n"
                                      "    source: [{uri: weights}, {uri: weights/sub}]\n"
                                      "  - src: weights\n    dest: /opt/w\n")
    assert problems == ["cog.yaml:6:11: weights[1].dest: expected a path under /src (e.g. /src/weights), got '/opt/w'"]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{source: weights, dest: /src/w}", "cog.yaml:2:5: weights[0]: mixes Cog's keys (source) with cognix's "
         "(dest); write the entry in one shape: Cog's {name, target, source} or cognix's {src, dest, include, "
         "exclude, mode, bucket}"),
        ("{name: w, target: /w, source: {uri: weights}, include: ['*.bin']}",
         "cog.yaml:2:51: weights[0].include: unknown key; in Cog's shape include and exclude go under source"),
        ("{name: w, target: /w, sorce: {uri: weights}}", "cog.yaml:2:5: weights[0].source: required key is missing"
         "|cog.yaml:2:27: weights[0].sorce: unknown key; did you mean 'source'?"),
        ("{name: My_Weights, target: /w, source: {uri: weights}}",
         "cog.yaml:2:12: weights[0].name: must contain only lowercase letters and digits, separated by single "
         "hyphens, dots or underscores (e.g. 'my-model-weights')"),
        ("{name: w, source: {uri: weights}}", "cog.yaml:2:5: weights[0].target: required key is missing"),
        ("{target: /w, source: {uri: weights}}", "cog.yaml:2:5: weights[0].name: required key is missing"),
        ("{name: w, target: w, source: {uri: weights}}",
         "cog.yaml:2:23: weights[0].target: must be an absolute path, got 'w'"),
        ("{name: w, target: /, source: {uri: weights}}",
         "cog.yaml:2:23: weights[0].target: must not be the container root '/'"),
        ("{name: w, target: /w, source: {uri: s3://b/k}}",
         "cog.yaml:2:41: weights[0].source.uri: unsupported scheme 's3' (supported: file, hf, huggingface, https, "
         "http)"),
        ("{name: w, target: /w, source: {uri: file:///abs}}",
         "cog.yaml:2:41: weights[0].source.uri: cognix takes local weights only from inside the model directory (so "
         "the lock holds on any machine), got the absolute path '/abs'"),
        ("{name: w, target: /w, source: {uri: ../up}}",
         "cog.yaml:2:41: weights[0].source.uri: '../up' leaves the model directory"),
        ("{name: w, target: /w, source: {uri: hf://onlyname}}",
         "cog.yaml:2:41: weights[0].source.uri: expected hf://org/repo[@ref], got 'hf://onlyname'"),
        ("{name: w, target: /w, source: {uri: 'https://u:p@h/x.bin'}}",
         "cog.yaml:2:41: weights[0].source.uri: a URL must not carry credentials (it is written into lock.json)"),
        ("{name: w, target: /w, source: {uri: weights, include: ['!a']}}",
         "cog.yaml:2:60: weights[0].source.include[0]: negation patterns (starting with '!') are not supported"),
        ("{name: w, target: /w, source: []}", "cog.yaml:2:35: weights[0].source: must list at least one source"),
    ],
)
def test_cog_weights_checks(tmp_path: Path, entry: str, problem: str) -> None:
    assert problems_for(tmp_path, f"weights:\n  - {entry}\n") == problem.split("|")


def test_cog_weights_targets_are_disjoint(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "weights:\n  - {name: a, target: /w, source: {uri: weights}}\n"
                                      "  - {name: a, target: /w/sub, source: {uri: weights}}\n"
                                      "  - {name: c, target: /w/, source: {uri: weights}}\n")
    assert problems == [
        "cog.yaml:3:12: weights[1].name: 'a' is already the name of weights[0]",
        "cog.yaml:3:15: weights[1].target: '/w/sub' overlaps weights[0].target '/w'",
        "cog.yaml:4:15: weights[2].target: '/w/' is already used by weights[0]",
    ]


def test_cog_globs_are_gitignore_style() -> None:
    files = ["config.json", "model.safetensors", "onnx/model.onnx", "onnx/deep/x.onnx", "openvino/m.bin",
             "deep/nested/w.safetensors", "a/b/c.bin", "a/b/d.safetensors"]
    assert [f for f in files if gitignore_match(["*.safetensors"], f)] == [
        "model.safetensors", "deep/nested/w.safetensors", "a/b/d.safetensors"]
    assert [f for f in files if gitignore_match(["**/*.safetensors"], f)] == [
        "model.safetensors", "deep/nested/w.safetensors", "a/b/d.safetensors"]
    assert [f for f in files if gitignore_match(["openvino/"], f)] == ["openvino/m.bin"]
    assert [f for f in files if gitignore_match(["onnx/*.onnx"], f)] == ["onnx/model.onnx"]  # fnmatch: both
    assert [f for f in files if gitignore_match(["a/b/*.safetensors"], f)] == ["a/b/d.safetensors"]
    assert gitignore_match(["config.json"], "config.json") and not gitignore_match(["*.Json"], "config.json")
    cands = [Candidate(path=f, source=f, kind="local") for f in files]
    assert [c.path for c in select(cands, ["onnx/*.onnx"], [], "gitignore")] == ["onnx/model.onnx"]
    assert [c.path for c in select(cands, ["onnx/*.onnx"], [])] == ["onnx/deep/x.onnx", "onnx/model.onnx"]
    assert [c.path for c in select(cands, [], ["*.safetensors", "onnx/"], "gitignore")] == [
        "a/b/c.bin", "config.json", "openvino/m.bin"]


def test_weights_of_one_cog_entry_are_layered_later_source_wins() -> None:
    from cognix.lock.model import WeightFile, WeightSet
    from cognix.weights.lock import _unshadowed

    def wf(path: str, sha: str) -> WeightFile:
        return WeightFile(path=path, size=1, sha256=sha * 64, source=f"s/{path}")

    sets = [WeightSet(src="a", dest="/w", mode="build", files=[wf("x.bin", "a"), wf("y.bin", "a")]),
            WeightSet(src="b", dest="/w", mode="build", files=[wf("x.bin", "b")]),
            WeightSet(src="c", dest="/other", mode="build", files=[wf("y.bin", "c")])]
    out = _unshadowed(sets)
    assert [[f.path for f in ws.files] for ws in out] == [["y.bin"], ["x.bin"], ["y.bin"]]
    assert out[1].files[0].sha256 == "b" * 64


# ---- whole cog.yaml files in the shape of each era -------------------------------------------------------------

ERAS = {
    "v0.0.x (2021)": (
        """
        build:
          gpu: true
          python_version: "3.8"
          cuda: "11.1"
          system_packages:
            - "libgl1-mesa-glx"
            - "libglib2.0-0"
          python_packages:
            - "torch==1.9.0+cu111"
            - "torchvision==0.10.0+cu111"
          python_find_links:
            - "https://download.pytorch.org/whl/torch_stable.html"
          pre_install:
            - "mkdir -p /root/.cache"
        image: "r8.im/someone/colorizer"
        predict: "predict.py:Predictor"
        """,
        [],
    ),
    "v0.1-v0.6 (2022)": (
        """
        build:
          gpu: true
          cuda: "11.3"
          python_version: 3.9
          system_packages: [ffmpeg]
          python_packages:
            - "torch==1.11.0 --extra-index-url=https://download.pytorch.org/whl/cu113"
            - "transformers==4.19.2"
          run:
            - "echo building"
        predict: "predict.py:Predictor"
        """,
        [],
    ),
    "v0.7-v0.8 (2023)": (
        """
        build:
          gpu: true
          cuda: "11.8"
          cudnn: "8"
          python_version: "3.10"
          python_requirements: requirements.txt
          run:
            - command: pip download --no-deps private-pkg
              mounts:
                - type: secret
                  id: pip
                  target: /etc/pip.conf
        predict: "predict.py:Predictor"
        train: "train.py:train"
        """,
        [],
    ),
    "v0.9-v0.13 (2024)": (
        """
        build:
          gpu: true
          python_version: "3.11"
          python_requirements: requirements.txt
        concurrency:
          max: 8
          default_target: 4
        predict: "predict.py:Predictor"
        """,
        ["cog.yaml:7:3: concurrency.default_target"],
    ),
    "v0.14-v0.16 (2025)": (
        """
        build:
          gpu: true
          python_version: "3.12"
          python_requirements: requirements.txt
          python_overrides: overrides.txt
          fast: true
          cog_runtime: true
        environment:
          - HF_HUB_CACHE=/src/.cache
        tests:
          - inputs:
              prompt: "an astronaut"
        predict: "predict.py:Predictor"
        """,
        ["cog.yaml:5:3: build.python_overrides", "cog.yaml:6:3: build.fast", "cog.yaml:7:3: build.cog_runtime",
         "cog.yaml:10:1: tests"],
    ),
    "v0.17-v0.19.2 (early 2026)": (
        """
        build:
          python_version: "3.12"
          python_requirements: requirements.txt
          sdk_version: "0.17.0"
        weights:
          - name: model-v1
            source: weights/model.safetensors
            target: /cache/model.safetensors
        predict: "predict.py:Predictor"
        """,
        ["cog.yaml:4:3: build.sdk_version", "cog.yaml:6:5: weights[0].name"],
    ),
    "v0.20+ (2026)": (
        """
        build:
          python_version: "3.13"
          python_requirements: requirements.txt
        model: r8.im/acme/flux
        run: "run.py:Runner"
        environment:
          - HF_HUB_OFFLINE=1
        weights:
          - name: flux
            target: /src/weights/flux
            source:
              - uri: file://./weights
                exclude: ["sub/"]
              - uri: https://example.com/lora.safetensors
        """,
        ["cog.yaml:9:5: weights[0].name"],
    ),
}


@pytest.mark.parametrize("era", list(ERAS))
def test_cog_yaml_of_each_era_loads(tmp_path: Path, era: str) -> None:
    text, notes = ERAS[era]
    config = load(tmp_path, text)
    assert note_paths(config) == notes
    requirements_of(tmp_path, config)


def test_era_values_are_honoured(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    old = load(tmp_path / "a", ERAS["v0.0.x (2021)"][0])
    assert old.build.gpu and old.build.cuda == "11.1" and old.build.python_minor == "3.8"
    assert old.build.all_run_steps[0].command == "mkdir -p /root/.cache"
    reqs = requirements_of(tmp_path / "a", old)
    assert reqs.find_links == ["https://download.pytorch.org/whl/torch_stable.html"]
    new = load(tmp_path / "b", ERAS["v0.20+ (2026)"][0])
    assert new.predict == "run.py:Runner" and new.model == "r8.im/acme/flux"
    assert [(w.src, w.dest, w.exclude) for w in new.weights] == [
        ("weights", "/src/weights/flux", ["sub/"]), ("https://example.com/lora.safetensors", "/src/weights/flux", [])]


# ---- the CLI prints the notes --------------------------------------------------------------------------------------


def test_lock_and_build_print_the_notes_and_an_ignored_key_keeps_the_lock_fresh(tmp_path: Path) -> None:
    from cognix.lock.lockfile import write_lock
    from cognix.lock.model import Lock, Runtime
    from cognix.lock.runtime_pin import runtime_digest
    from cognix.lock.target import make_target

    model = tmp_path / "hello"
    shutil.copytree(EXAMPLES / "hello", model, ignore=shutil.ignore_patterns("lock.json", "__pycache__"))
    runner = CliRunner()
    missing = runner.invoke(cli, ["build", "--frozen", str(model)])
    assert missing.exit_code == 1 and "note:" not in missing.output

    config = load_config(model)
    lock = Lock(input_hash=input_hash(config, model), target=make_target("3.11", glibc="2.36", debian_suite="bookworm"),
                config=config.cog_json(), runtime=Runtime(version="0.1.0", sha256=runtime_digest()))
    write_lock(model, lock)
    text = (model / "cog.yaml").read_text()
    (model / "cog.yaml").write_text(text.replace("build:\n", "build:\n  fast: true\n", 1))
    line = text.splitlines().index("build:") + 2
    fresh = runner.invoke(cli, ["lock", "--check", str(model)])
    assert fresh.exit_code == 0, fresh.output
    assert "up to date" in fresh.stdout
    assert fresh.stderr.splitlines()[0] == (
        f"note: cog.yaml:{line}:3: build.fast: ignored: cognix images always build from the lock (Cog's fast "
        "builds change how Cog builds, not what the image holds)")
    (model / "lock.json").unlink()
    frozen = runner.invoke(cli, ["build", "--frozen", str(model)])
    assert frozen.exit_code == 1
    assert frozen.stderr.startswith(f"note: cog.yaml:{line}:3: build.fast: ignored: ")
