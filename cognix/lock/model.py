"""The Lock: every input of an image pinned by sha256. Both engines read only this.

lock.json layout (top-level keys, written with sort_keys and fixed separators):
  "cognix":            Lock.model_dump(mode="json")  -- what the native engine, weights and nixgen read
  "fetchPipMetadata":  dream2nix's pip-module section {"sources": {...}, "targets": {"default": {...}}}
  "invalidationHash":  == Lock.input_hash, so dream2nix-style tooling can compare it
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LOCK_FORMAT_VERSION = 1

# Where the image's interpreter comes from: Debian's python3.X package of the suite that ships it, or a
# python-build-standalone archive (the relocatable CPython builds uv installs) on top of a Debian base.
PythonSource = Literal["debian", "standalone"]
STANDALONE_PREFIX = "/usr/local"  # where python:3.X images (Cog's CPU base) keep their interpreter


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    """What the lock was resolved for."""

    python_version: str  # "3.11" (major.minor; a patch in cog.yaml is recorded in config, not here)
    python_source: PythonSource = "debian"
    implementation: str = "cp"
    abi: str  # "cp311"
    platform_tags: list[str]  # most specific first, e.g. manylinux_2_36_x86_64 ... manylinux2014_x86_64, linux_x86_64
    glibc: str  # "2.36"
    arch: str = "x86_64"
    debian_suite: str | None = None  # the system base's suite ("bookworm"); None: no Debian base (Nix engine only)
    gpu: bool = False
    cuda: str | None = None  # "12.1" when gpu; derived from the locked torch when cog.yaml leaves it unset
    cudnn: str | None = None

    def layout(self) -> PythonLayout:
        """The interpreter's paths in the image (one rule, read by the store, the engines and the schema step)."""
        minor = self.python_version
        if self.python_source == "standalone":
            prefix = STANDALONE_PREFIX
            return PythonLayout(prefix=prefix, executable=f"{prefix}/bin/python{minor}",
                                site_packages=f"{prefix}/lib/python{minor}/site-packages",
                                include=f"{prefix}/include/python{minor}", scripts=f"{prefix}/bin")
        # Debian's interpreter puts /usr/lib/python3/dist-packages on sys.path (its site module).
        return PythonLayout(prefix="/usr", executable=f"/usr/bin/python{minor}",
                            site_packages="/usr/lib/python3/dist-packages",
                            include=f"/usr/include/python{minor}", scripts="/usr/bin")


@dataclass(frozen=True)
class PythonLayout:
    """Absolute paths of the image's interpreter: derived from the Target, never stored."""

    prefix: str  # sysconfig's `data` scheme path too
    executable: str  # /usr/bin/python3.11
    site_packages: str  # purelib == platlib
    include: str
    scripts: str  # console scripts; python, python3 links live here too


class StandalonePython(_Strict):
    """A python-build-standalone archive (install_only layout: everything under `python/`)."""

    version: str  # full CPython version, "3.12.16"
    release: str  # python-build-standalone release tag, "20261110"
    filename: str  # cpython-3.12.16+20261110-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz
    url: str  # as the listing gave it (mirror applied)
    sha256: str
    size: int
    listed_by: str  # the uv whose download list named it, "uv 0.13.9"


class RunRecord(_Strict):
    """What one build.run step wrote, recorded by the first build (like a fixed-output derivation's hash): a later
    build of the same inputs must write the same, or say which paths differ."""

    inputs: str  # sha256 of everything the step ran with: its command, the tree under it, its environment
    digest: str  # sha256 of `files`, in canonical JSON
    # path -> what the step left there: "f:<sha256>" (x bit: "x:<sha256>"), "l:<target>", "d", "w" (deleted)
    files: dict[str, str] = Field(default_factory=dict)


class LockOptions(_Strict):
    """Choices made on the command line, kept in lock.json so a re-lock or --check makes them again."""

    python_source: Literal["auto", "debian", "standalone"] = "auto"  # auto: Debian where a suite ships it
    python_mirror: str | None = None  # python-build-standalone's mirror, when one was given (no credentials)
    torch_index: str | None = None  # the PyTorch index base, when one was given (no credentials)


class Sdist(_Strict):
    """The source distribution a wheel is built from (in a sandbox) when the index has no wheel for the target."""

    filename: str  # openai-whisper-20231117.tar.gz
    url: str
    sha256: str
    size: int
    build_requires: list[str] = Field(default_factory=list)  # "name==version" of Lock.build_wheels, sorted
    compiles: bool = False  # has C/C++/Cython/Rust/Fortran sources or a CMake/Meson build: gets Lock.build_debs
    reproducible: bool = True  # two builds from clean caches gave the same wheel bytes
    note: str | None = None  # when not reproducible: which files of the wheel differ


class Wheel(_Strict):
    """One Python distribution: exactly one file chosen for the target (or built for it from `sdist`)."""

    name: str  # PEP 503 canonical name
    version: str
    filename: str
    url: str  # as the index gave it; never a file:// or machine-local path
    sha256: str  # hex
    size: int
    dependencies: list[str] = Field(default_factory=list)  # canonical names, markers evaluated for the target
    requested: bool = False  # named directly by the model's requirements (or the runtime's)
    is_direct: bool = False  # requested by URL ("name @ https://...whl") rather than by version from an index
    # Built from this sdist: filename, sha256 and size are then the built wheel's, url is the sdist's.
    sdist: Sdist | None = None


class Deb(_Strict):
    """One Debian binary package."""

    package: str
    version: str
    architecture: str  # "amd64" or "all"
    filename: str  # pool path relative to the mirror root, e.g. pool/main/p/python3.11/...deb
    url: str  # full URL at lock time (mirror base + filename)
    sha256: str
    size: int
    depends: list[str] = Field(default_factory=list)  # resolved package names this one pulls in
    suite: str  # "bookworm-security"
    release_date: str  # the Date: field of that suite's Release file, verbatim


class WeightFile(_Strict):
    path: str  # relative to the entry's dest, posix
    size: int
    sha256: str
    source: str  # URL, gs:// URI or model-dir-relative path the bytes were read from at lock time
    location: str | None = None  # gs://bucket/sha256/<hex> once `cognix weights push` uploaded it
    # The server's version tag at lock time (GCS generation, HTTP ETag, hub blob id): a re-lock reuses the
    # recorded hash only while it is unchanged, so an object overwritten with same-size bytes is re-hashed.
    etag: str | None = None


class WeightSet(_Strict):
    src: str
    dest: str  # absolute path under /src
    mode: Literal["build", "runtime"]
    files: list[WeightFile] = Field(default_factory=list)


class Runtime(_Strict):
    """cognix's own runtime, as shipped in the image."""

    version: str
    sha256: str  # of the runtime tree's deterministic file listing (see cognix.store)


class Lock(_Strict):
    format: int = LOCK_FORMAT_VERSION
    input_hash: str  # sha256 hex of cog.yaml's build section + requirements + weights specs (see cognix.lock.inputs)
    target: Target
    config: dict  # the effective cog.yaml (CogConfig dumped as JSON), for the Nix engine and image labels
    wheels: list[Wheel] = Field(default_factory=list)  # sorted by name
    debs: list[Deb] = Field(default_factory=list)  # sorted by package
    weights: list[WeightSet] = Field(default_factory=list)  # cog.yaml order
    runtime: Runtime | None = None
    python: StandalonePython | None = None  # when target.python_source == "standalone"
    # What sdist builds need and the image never gets: build requirements and the compiler toolchain.
    build_wheels: list[Wheel] = Field(default_factory=list)  # sorted by (name, version)
    build_debs: list[Deb] = Field(default_factory=list)  # sorted by package; the image's debs come on top
    run_wheels: list[str] = Field(default_factory=list)  # "name==version" of build_wheels for build.run (pip)
    run_records: list[RunRecord] = Field(default_factory=list)  # one per build.run step, once a build made them
    options: LockOptions = Field(default_factory=LockOptions)
    index_urls: list[str] = Field(default_factory=list)  # the index(es) resolved against (no credentials)
    find_links: list[str] = Field(default_factory=list)  # find-links pages resolved against (no credentials)
    mirror: str | None = None  # Debian mirror base URL the debs were resolved against

    def wheel(self, name: str) -> Wheel | None:
        return next((w for w in self.wheels if w.name == name), None)
