"""Which package index to resolve against: the user's options, the model's requirements, then pip/uv configuration.

The machine's own pip configuration may also name find-links or file:// indexes; those are machine-local and never
reach uv or a lock. Only http(s) indexes are used.
"""

from __future__ import annotations

import configparser
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cognix.errors import LockError


@dataclass(frozen=True)
class IndexConfig:
    index_url: str | None = None  # None: uv's own default index
    extra_index_urls: list[str] = field(default_factory=list)


def is_remote(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https") and bool(urlsplit(url).netloc)


def redact(url: str) -> str:
    """The URL without user:password, for recording in a lock."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _pip_config_files() -> list[Path]:
    """pip's configuration files, lowest priority first (global, user, site), as pip reads them."""
    env_file = os.environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":")
    files = [Path(d) / "pip" / "pip.conf" for d in reversed(xdg_dirs) if d] + [Path("/etc/pip.conf")]
    home = Path.home()
    xdg_home = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    files += [home / ".pip" / "pip.conf", xdg_home / "pip" / "pip.conf", Path(sys.prefix) / "pip.conf"]
    if env_file:
        files.append(Path(env_file))
    return files


def _pip_file_settings() -> dict[str, str]:
    """index-url / extra-index-url from pip's files ([install] beats [global], later files beat earlier)."""
    out: dict[str, str] = {}
    for path in _pip_config_files():
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (OSError, configparser.Error):
            continue
        for section in ("global", "install"):
            if parser.has_section(section):
                for key in ("index-url", "extra-index-url"):
                    if parser.has_option(section, key):
                        out[key] = parser.get(section, key)
    return out


def machine_index() -> IndexConfig:
    """The index the machine's uv/pip configuration names (environment first, then pip's files); remote only."""
    files = _pip_file_settings()
    env = os.environ
    index = (env.get("UV_DEFAULT_INDEX") or env.get("UV_INDEX_URL") or env.get("PIP_INDEX_URL")
             or files.get("index-url"))
    extras_text = " ".join(
        v for v in (env.get("UV_INDEX"), env.get("UV_EXTRA_INDEX_URL"), env.get("PIP_EXTRA_INDEX_URL"),
                    files.get("extra-index-url")) if v
    )
    extras = [u for u in extras_text.split() if is_remote(u)]
    return IndexConfig(index_url=index.strip() if index and is_remote(index.strip()) else None,
                       extra_index_urls=_unique(extras))


def choose_index(*, option: str | None, model_index: str | None, model_extras: list[str]) -> IndexConfig:
    """The index for this lock: --index-url, else the model's requirements, else the machine's configuration."""
    for url, where in [(option, "--index-url"), (model_index, "the model's requirements")] + [
        (u, "the model's requirements") for u in model_extras
    ]:
        if url and not is_remote(url):
            raise LockError(f"index {url!r} from {where} is not an http(s) URL",
                            fix="use a remote package index; machine-local indexes can't be pinned in a lock")
    machine = machine_index()
    index = option or model_index or machine.index_url
    extras = _unique(list(model_extras) + machine.extra_index_urls)
    return IndexConfig(index_url=index, extra_index_urls=[u for u in extras if u != index])


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
