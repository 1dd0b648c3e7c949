"""`cognix init`: write flake.nix (and lock.json) into a Cog project."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import jinja2

from cognix.errors import CognixError, ConfigError

# The flake of this project, as a flake reference; `cognix init --flake-url` (or
# COGNIX_FLAKE_URL) points generated flakes elsewhere, e.g. a fork or `path:/checkout`.
DEFAULT_FLAKE_URL = "github:cognix/cognix"
FLAKE_FILE = "flake.nix"

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("cognix.nixgen", "templates"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)


@dataclass
class InitResult:
    name: str
    written: list[str] = field(default_factory=list)  # file names, in the order written
    lock_status: str = ""  # "written", "up to date", "skipped"

    def next_steps(self, cd: str | None = None) -> list[str]:
        """The commands a user runs next (what `cognix init` prints), comments aligned."""
        steps: list[tuple[str, str]] = []
        if cd:
            steps.append((f"cd {cd}", ""))
        if self.lock_status == "skipped":
            steps.append(("cognix lock .", "pin Python packages, system packages and weights in lock.json"))
        steps += [
            ("git add flake.nix lock.json", "flakes only see files git knows"),
            (f"nix build .#{self.name}", "./result streams the image"),
            ("./result load", "load it into docker (DOCKER=podman for podman)"),
            (f"nix run .#{self.name}.push-weights", "upload the model's weights (cognix weights push)"),
            ("nix path-info ./result -rSsh", "audit the image's size, path by path"),
        ]
        width = max(len(cmd) for cmd, _ in steps) + 2
        return [f"{cmd.ljust(width)}# {note}" if note else cmd for cmd, note in steps]


def flake_name(model_dir: Path) -> str:
    """The flake attribute for a model: its directory name, reduced to [a-z0-9-]."""
    name = re.sub(r"[^a-z0-9-]+", "-", model_dir.resolve().name.lower()).strip("-")
    return name or "model"


def _nix_string(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9:/._+~?=&@-]+", value):
        raise CognixError(f"flake URL {value!r} has characters a Nix string would need escaped",
                          fix="use a plain flake reference such as github:owner/repo or path:/abs/dir")
    return value


def render_flake(name: str, flake_url: str = DEFAULT_FLAKE_URL) -> str:
    return _ENV.get_template("flake.nix.j2").render(name=name, flake_url=_nix_string(flake_url))


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _default_lock(model_dir: Path) -> str:
    """Write lock.json unless a fresh one is there; returns "written" or "up to date"."""
    from cognix.config import load_config
    from cognix.errors import LockError
    from cognix.lock import load_lock, lock_model, write_lock

    config = load_config(model_dir)
    try:
        load_lock(model_dir, config)
        return "up to date"
    except LockError:
        write_lock(model_dir, lock_model(model_dir, config=config))
        return "written"


def init_project(model_dir: Path, *, force: bool = False, flake_url: str = DEFAULT_FLAKE_URL,
                 lock: bool = True, locker: Callable[[Path], str] = _default_lock) -> InitResult:
    """Write flake.nix into `model_dir` (refusing to overwrite unless force) and make lock.json."""
    model_dir = Path(model_dir)
    if not (model_dir / "cog.yaml").is_file():
        raise ConfigError([f"{model_dir}: no cog.yaml here"], fix="run `cognix init` in a Cog project (a directory with cog.yaml)")
    flake = model_dir / FLAKE_FILE
    if flake.exists() and not force:
        raise CognixError(f"{flake} already exists", fix="pass --force to overwrite it")
    result = InitResult(name=flake_name(model_dir))
    _write(flake, render_flake(result.name, flake_url))
    result.written.append(FLAKE_FILE)
    if lock:
        result.lock_status = locker(model_dir)
        if result.lock_status == "written":
            result.written.append("lock.json")
    else:
        result.lock_status = "skipped"
    return result
