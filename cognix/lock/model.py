"""The Lock: every input of an image pinned by sha256. Both engines read only this.

lock.json layout (top-level keys, written with sort_keys and fixed separators):
  "cognix":            Lock.model_dump(mode="json")  -- what the native engine, weights and nixgen read
  "fetchPipMetadata":  dream2nix's pip-module section {"sources": {...}, "targets": {"default": {...}}}
  "invalidationHash":  == Lock.input_hash, so dream2nix-style tooling can compare it
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LOCK_FORMAT_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    """What the lock was resolved for."""

    python_version: str  # "3.11" (major.minor; a patch in cog.yaml is recorded in config, not here)
    implementation: str = "cp"
    abi: str  # "cp311"
    platform_tags: list[str]  # most specific first, e.g. manylinux_2_36_x86_64 ... manylinux2014_x86_64, linux_x86_64
    glibc: str  # "2.36"
    arch: str = "x86_64"
    debian_suite: str | None = None  # "bookworm"; None when the native engine can't serve this python_version
    gpu: bool = False
    cuda: str | None = None  # "12.1" when gpu; derived from the locked torch when cog.yaml leaves it unset
    cudnn: str | None = None


class Wheel(_Strict):
    """One Python distribution: exactly one file chosen for the target."""

    name: str  # PEP 503 canonical name
    version: str
    filename: str
    url: str  # as the index gave it; never a file:// or machine-local path
    sha256: str  # hex
    size: int
    dependencies: list[str] = Field(default_factory=list)  # canonical names, markers evaluated for the target
    requested: bool = False  # named directly by the model's requirements (or the runtime's)
    is_direct: bool = False  # requested by URL ("name @ https://...whl") rather than by version from an index


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
    index_urls: list[str] = Field(default_factory=list)  # the index(es) resolved against (no credentials)
    mirror: str | None = None  # Debian mirror base URL the debs were resolved against

    def wheel(self, name: str) -> Wheel | None:
        return next((w for w in self.wheels if w.name == name), None)
