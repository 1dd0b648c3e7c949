"""The cog.yaml model: every key some Cog release accepted plus cognix's `weights`, with Cog's defaults.

Keys that change nothing in a cognix image are accepted, noted and dropped (cognix/config/compat.py, which also maps
Cog's own `weights` entries onto WeightSpec); `CogConfig.notices` has one located line for each.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from packaging.version import InvalidVersion, Version
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from cognix.config.compat import prepare
from cognix.config.prepared import Ignored, MappedWeight

# Every CPython minor some Cog release accepts (Cog: 3.8 and newer; 3.14 since its 2025 releases).
SUPPORTED_PYTHON = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
# defaults.json is read by the Nix engine too (nix/modules/cog.nix, nix/lib/cog-config.nix): one default for both
DEFAULT_PYTHON: str = json.loads((Path(__file__).parent / "defaults.json").read_text(encoding="utf-8"))["python_version"]
MIN_SDK_VERSION = Version("0.16.0")

_ENV_ITEM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*")  # fullmatch: no newlines, as in Cog
DENIED_ENV_NAMES = frozenset(
    {
        "PATH",
        "LD_LIBRARY_PATH",
        "PYTHONPATH",
        "VIRTUAL_ENV",
        "PYTHONUNBUFFERED",
        "LIBRARY_PATH",
        "HF_ENDPOINT",
        "HF_HUB_ENABLE_HF_TRANSFER",
    }
)
DENIED_ENV_PREFIXES = ("R8_", "REPLICATE_", "CUDA_", "NVIDIA_", "NV_", "PGET_", "KUBERNETES_")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
# An image repository as go-containerregistry's name.NewRepository takes it (Cog's check of `model`).
_REGISTRY = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]+)?$")
_REPOSITORY = re.compile(r"^[a-z0-9_./-]{2,255}$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

KeyPath = tuple[str | int, ...]


class _Strict(BaseModel):
    """Unknown keys are errors; a key written with no value (YAML null) counts as absent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


_RUNNER_REF = re.compile(r"[^:\s]+\.py:[A-Za-z_][A-Za-z0-9_]*")  # the name a Python identifier, nothing after it


def _check_runner_ref(value: str) -> str:
    if not _RUNNER_REF.fullmatch(value):
        raise ValueError(f"expected 'file.py:Name', got {value!r}")
    return value


def _check_env_item(value: str) -> str:
    if not _ENV_ITEM.fullmatch(value):
        raise ValueError(f"expected NAME=value (NAME matching [A-Za-z_][A-Za-z0-9_]*), got {value!r}")
    name = value.split("=", 1)[0]
    if name in DENIED_ENV_NAMES:
        raise ValueError(f"{name} cannot be set here (Cog reserves it)")
    for prefix in DENIED_ENV_PREFIXES:
        if name.startswith(prefix):
            raise ValueError(f"{name} cannot be set here (names starting with {prefix} are reserved)")
    return value


def _as_version_text(value: Any) -> Any:
    """YAML may give a number (python_version: 3.11); versions are kept as text."""
    if isinstance(value, bool):
        return value  # left for the str check to reject
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _is_repository(value: str) -> bool:
    first, slash, rest = value.partition("/")
    if slash and ("." in first or ":" in first):
        return bool(_REGISTRY.match(first)) and bool(_REPOSITORY.match(rest))
    return bool(_REPOSITORY.match(value))


def _check_model(value: str) -> str:
    """`model` as Cog checks it: a bare repository, no tag or digest."""
    if _is_repository(value):
        return value
    if ".py:" in value:
        raise ValueError(f"expected an image repository such as 'r8.im/me/model', got the runner reference "
                         f"{value!r}: that goes under 'run' (Cog's first releases called it model)")
    bare = value.split("@", 1)[0]
    head, slash, last = bare.rpartition("/")
    bare = head + slash + last.split(":", 1)[0]
    if bare != value and _is_repository(bare):
        raise ValueError(f"must be a bare repository (tags and digests are not allowed), got {value!r}")
    raise ValueError(f"expected an image repository such as 'r8.im/me/model' (lowercase), got {value!r}")


RunnerRef = Annotated[str, AfterValidator(_check_runner_ref)]
ModelRepo = Annotated[str, AfterValidator(_check_model)]
EnvItem = Annotated[str, AfterValidator(_check_env_item)]


class Mount(_Strict):
    """A build-time secret mount of a `build.run` step."""

    type: Literal["secret"]
    id: str
    target: str


class RunStep(_Strict):
    """One `build.run` shell step; a plain string in cog.yaml becomes {command: string}."""

    command: str
    mounts: list[Mount] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return {"command": data} if isinstance(data, str) else data

    @field_validator("command")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value.strip("\n"):
            raise ValueError("a command cannot contain a newline; split it into several steps")
        return value.strip("\n")


class Build(_Strict):
    """The `build` section."""

    gpu: StrictBool = False
    cuda: str | None = None
    cudnn: str | None = None
    python_version: str = DEFAULT_PYTHON
    python_packages: list[str] | None = None
    python_requirements: str | None = None
    # Cog v0.0.5 to v0.0.18: pip's -f / --extra-index-url for python_packages (requirements.py honours them there)
    python_find_links: list[str] = Field(default_factory=list)
    python_extra_index_urls: list[str] = Field(default_factory=list)
    system_packages: list[str] = Field(default_factory=list)
    run: list[RunStep] = Field(default_factory=list)
    pre_install: list[str] = Field(default_factory=list)
    sdk_version: str | None = None

    @field_validator("python_version", "cuda", "cudnn", "sdk_version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return _as_version_text(value)

    @field_validator("python_version")
    @classmethod
    def _python(cls, value: str) -> str:
        match = re.fullmatch(r"(\d+)\.(\d+)(\.\d+)?", value.strip())
        supported = f"{SUPPORTED_PYTHON[0]} to {SUPPORTED_PYTHON[-1]} (a patch such as '3.11.4' means that minor)"
        if not match:
            raise ValueError(f"expected a version like '3.11' or '3.11.4', got {value!r}; supported: {supported}")
        if f"{int(match.group(1))}.{int(match.group(2))}" not in SUPPORTED_PYTHON:
            raise ValueError(f"unsupported Python version {value!r}; supported: {supported}")
        return value.strip()

    @field_validator("cuda")
    @classmethod
    def _cuda(cls, value: str) -> str:
        match = re.fullmatch(r"(\d+)\.(\d+)(\.\d+)?", value.strip())
        if not match:
            raise ValueError(f"expected a CUDA version like '12.1' or '12.1.1', got {value!r}")
        if int(match.group(1)) < 11:
            raise ValueError(f"CUDA {value} is not supported; the minimum is 11")
        return value.strip()

    @field_validator("cudnn")
    @classmethod
    def _cudnn(cls, value: str) -> str:
        if not re.fullmatch(r"\d+(\.\d+){0,2}", value.strip()):
            raise ValueError(f"expected a cuDNN version like '8' or '8.9', got {value!r}")
        return value.strip()

    @field_validator("sdk_version")
    @classmethod
    def _sdk(cls, value: str) -> str:
        if value == "prerelease":
            return value
        try:
            version = Version(value)
        except InvalidVersion:
            raise ValueError(f"expected a PEP 440 version or 'prerelease', got {value!r}") from None
        if version < MIN_SDK_VERSION:
            raise ValueError(f"sdk_version {value} is too old; the minimum is {MIN_SDK_VERSION}")
        return value

    @property
    def python_minor(self) -> str:
        """The interpreter's major.minor, e.g. "3.11" for python_version "3.11.4"."""
        major, minor = self.python_version.split(".")[:2]
        return f"{major}.{minor}"

    @property
    def all_run_steps(self) -> list[RunStep]:
        """`run` steps followed by the deprecated `pre_install` ones, as Cog executes them."""
        return [*self.run, *(RunStep(command=c) for c in self.pre_install)]


class Concurrency(_Strict):
    """The (deprecated) `concurrency` section (its `default_target` is accepted and ignored, see compat.py)."""

    max: StrictInt = Field(ge=1)


class WeightSpec(_Strict):
    """One entry of cognix's `weights` list (Cog's own entries are mapped onto these, see compat.py).

    globs: how include/exclude match a file's path relative to src: "fnmatch" (cognix's, `*` crosses `/`) or
    "gitignore" (Cog's: a bare `*.bin` at any depth, `dir/*.bin` only directly in dir). Left out of dumps when
    "fnmatch", so the lock's input hash of entries without it is unchanged.
    """

    src: str = Field(min_length=1)
    dest: str
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    mode: Literal["build", "runtime"] = "build"
    bucket: str | None = None
    globs: Literal["fnmatch", "gitignore"] = "fnmatch"

    @model_serializer(mode="wrap")
    def _dump(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        if data.get("globs") == "fnmatch":
            del data["globs"]
        return data

    @field_validator("src")
    @classmethod
    def _src(cls, value: str) -> str:
        if value != value.strip():
            raise ValueError("must not start or end with whitespace")
        if not _SCHEME.match(value):
            # A local path (or a repo id): it has to stay inside the model directory.
            if value.startswith("/") or ".." in value.split("/"):
                raise ValueError(f"a local path must be relative and inside the model directory, got {value!r}")
        return value

    @field_validator("dest")
    @classmethod
    def _dest(cls, value: str) -> str:
        if not value.startswith("/") or ".." in value.split("/"):
            raise ValueError(f"expected an absolute path under /src, got {value!r}")
        norm = posixpath.normpath(value)
        if not norm.startswith("/src/"):
            raise ValueError(f"expected a path under /src (e.g. /src/weights), got {value!r}")
        return norm

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not _BUCKET.match(value):
            raise ValueError(f"expected a GCS bucket name (no gs://, no path), got {value!r}")
        return value


def _cross_problems(data: dict[str, Any]) -> list[tuple[KeyPath, str, Any]]:
    """Checks between keys, on the raw mapping so they are reported with the per-key errors."""
    problems: list[tuple[KeyPath, str, Any]] = []
    if "image" in data and "model" in data:
        problems.append((("model",), "cannot be used together with 'image'", data["model"]))
    build = data.get("build")
    if isinstance(build, dict) and build.get("python_packages") is not None:
        if build.get("python_requirements") is not None:
            problems.append(
                (
                    ("build", "python_requirements"),
                    "cannot be used together with python_packages; keep one (python_packages is deprecated)",
                    build["python_requirements"],
                )
            )
    concurrency = data.get("concurrency")
    if isinstance(concurrency, dict) and isinstance(concurrency.get("max"), int) and concurrency["max"] > 1:
        version = str(build.get("python_version", DEFAULT_PYTHON)) if isinstance(build, dict) else DEFAULT_PYTHON
        minor = re.match(r"3\.(\d+)(\.|$)", version.strip())
        if minor and int(minor.group(1)) < 11:
            problems.append(
                (("concurrency", "max"), "a value above 1 needs python_version 3.11 or newer", concurrency["max"])
            )
    env = data.get("environment")
    if isinstance(env, list):
        seen: dict[str, int] = {}
        for i, item in enumerate(env):
            if isinstance(item, str) and "=" in item:
                name = item.split("=", 1)[0]
                if name in seen:
                    problems.append((("environment", i), f"{name} is already set by environment[{seen[name]}]", item))
                seen.setdefault(name, i)
    return problems  # weights entries not overlapping each other: compat.prepare checks it, Cog's shape included


class CogConfig(_Strict):
    """A whole cog.yaml. The runner reference lives in `predict`, also when written as `run:`."""

    build: Build = Field(default_factory=Build)
    predict: RunnerRef | None = None
    train: RunnerRef | None = None
    image: str | None = None
    model: ModelRepo | None = None
    concurrency: Concurrency | None = None
    environment: list[EnvItem] = Field(default_factory=list)
    weights: list[WeightSpec] = Field(default_factory=list)

    # Set by the loader: where each key sits in cog.yaml, for located errors further down.
    _source: Any = PrivateAttr(default=None)
    # Set in validation: the keys accepted but ignored (see `ignored` and `notices`).
    _ignored: tuple[Ignored, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _validate_all(cls, data: Any, handler: Any, info: ValidationInfo) -> CogConfig:
        if not isinstance(data, dict):
            return handler(data)
        # The loader passes context={"model_dir": ...}: it tells a file from a directory in Cog's old weights shape.
        prepared = prepare(data, (info.context or {}).get("model_dir") if isinstance(info.context, dict) else None)
        data = prepared.data
        if isinstance(data.get("weights"), list):
            data["weights"] = [WeightSpec.model_construct(**w) if isinstance(w, MappedWeight) else w
                               for w in data["weights"]]
        problems: list[tuple[KeyPath, str, Any]] = []
        used_run = data.get("run") is not None and data.get("predict") is None
        run = data.pop("run", None)
        if run is not None and data.get("predict") is not None:
            message = "cannot be used together with 'predict' (an alias of 'run'); keep one"
            problems.append((("run",), message, run))
        elif run is not None:
            data["predict"] = run
        problems += _cross_problems(data)
        errors: list[InitErrorDetails] = []
        try:
            result = handler(data)
        except ValidationError as err:
            result = None
            for e in err.errors():
                loc = prepared.remap(tuple(e["loc"]))
                if used_run and loc[:1] == ("predict",):
                    loc = ("run", *loc[1:])
                kind = PydanticCustomError(e["type"], e["msg"])  # keeps type and text; loc may change
                errors.append(InitErrorDetails(type=kind, loc=loc, input=e["input"]))
        errors += [
            InitErrorDetails(type=PydanticCustomError("cognix", msg), loc=loc, input=value)
            for loc, msg, value in problems
        ]
        errors += [
            InitErrorDetails(type=PydanticCustomError(kind, msg), loc=loc, input=value)
            for loc, kind, msg, value in prepared.errors
        ]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        result._ignored = tuple(prepared.ignored)
        return result

    @property
    def ignored(self) -> tuple[Ignored, ...]:
        """The keys accepted but not used (Cog keys that change nothing in a cognix image), each with why."""
        return self._ignored

    @property
    def notices(self) -> tuple[str, ...]:
        """One located line per ignored key, in cog.yaml order: `cog.yaml:3:3: build.fast: ignored: <why>`.
        `cognix lock` and `cognix build` print each on stderr as `note: <line>`."""
        from cognix.config.loader import Source

        source = self._source or Source("cog.yaml")

        def where(item: Ignored) -> tuple[int, int]:
            pos = source.positions.get(item.path)
            return (pos.key or pos.value) if pos is not None else (0, 0)

        return tuple(source.problem(i.path, f"ignored: {i.reason}", at_key=True) for i in sorted(self._ignored,
                                                                                                   key=where))

    @property
    def python_minor(self) -> str:
        """Shortcut for build.python_minor."""
        return self.build.python_minor

    def environment_map(self) -> dict[str, str]:
        """`environment` as NAME -> value, sorted by name (the order Cog writes ENV in)."""
        return dict(sorted(item.split("=", 1) for item in self.environment))  # type: ignore[misc]

    def runtime_env(self) -> dict[str, str]:
        """What the runtime reads from cog.yaml, as environment: `environment`, then the runner references and
        concurrency (set after it, as Cog's Dockerfile does), sorted by name."""
        env = self.environment_map()
        if self.predict:
            env["COG_PREDICT_TYPE_STUB"] = self.predict
        if self.train:
            env["COG_TRAIN_TYPE_STUB"] = self.train
        if self.concurrency is not None:
            env["COG_MAX_CONCURRENCY"] = str(self.concurrency.max)
        return dict(sorted(env.items()))

    def cog_json(self) -> dict[str, Any]:
        """The effective config in the shape of Cog's run.cog.config label, empty values omitted."""
        b = self.build
        build = _compact(
            {
                "gpu": b.gpu,
                "python_version": b.python_version,
                "python_requirements": b.python_requirements,
                "python_packages": b.python_packages,
                "run": [_compact({"command": s.command, "mounts": [m.model_dump() for m in s.mounts]}) for s in b.run],
                "system_packages": b.system_packages,
                "pre_install": b.pre_install,
                "cuda": b.cuda,
                "cudnn": b.cudnn,
                "sdk_version": b.sdk_version,
            }
        )
        rest = _compact(
            {
                "image": self.image,
                "model": self.model,
                "predict": self.predict,
                "train": self.train,
                "concurrency": {"max": self.concurrency.max} if self.concurrency else None,
                "environment": self.environment,
                "weights": [_compact(w.model_dump()) for w in self.weights],
            }
        )
        return {"build": build, **rest}


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values (None, False, "", [], {}), as Cog's label does."""
    return {k: v for k, v in mapping.items() if v not in (None, False, "", [], {})}
