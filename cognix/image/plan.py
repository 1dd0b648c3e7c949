"""The image plan: pure data handed from an engine to the image-bytes writer.

Engines build a plan; only cognix.image writes archive bytes from it. A plan names trees on disk
(store entries); the writer tars them with fixed mtimes, each entry's owner (0:0 unless it says), sorted entries and
normalised modes.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(_Frozen):
    """A store entry: a directory tree whose contents map onto the image root."""

    name: str  # e.g. "deb/libc6_2.36-9+deb12u9_amd64", "wheel/numpy-2.1.0-...", "runtime", "src"
    root: str  # absolute path of the tree on this machine
    size: int  # bytes of regular files in the tree (own size)
    references: list[str] = Field(default_factory=list)  # names of entries this one needs (closure edges)
    # Stable content hash of the tree (e.g. the artifact's sha256 + unpack recipe version). When set, the
    # layer-digest cache trusts it instead of stat()ing the tree; it must change whenever the tree's bytes do.
    digest: str | None = None
    # uid and gid of every path of this entry in the image: 0 (root) unless the engine hands a tree to the image's
    # user (the model's /src and the user's home, so a model that writes next to itself works as under Cog's root)
    owner: int = 0


class Layer(_Frozen):
    entries: list[Entry]  # merged into one tar; later entries win on path clashes
    comment: str = ""  # goes into the image history


class ImageConfig(_Frozen):
    entrypoint: list[str]
    cmd: list[str]
    env: list[str]  # "NAME=value", sorted by name
    working_dir: str = "/src"
    user: str = ""
    exposed_ports: list[str] = Field(default_factory=lambda: ["5000/tcp"])
    labels: dict[str, str] = Field(default_factory=dict)
    volumes: list[str] = Field(default_factory=list)


class ImagePlan(_Frozen):
    layers: list[Layer]  # bottom first
    config: ImageConfig
    repo_tag: str  # "name:tag"
    created: str = "1970-01-01T00:00:01Z"  # SOURCE_DATE_EPOCH as RFC 3339; also every file's mtime
    architecture: str = "amd64"
