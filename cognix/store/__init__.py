"""The store: artifacts fetched once and verified by sha256, unpacked into immutable, content-keyed trees."""

from cognix.store.cache import add_file, blob_path, cache_dir, cached, fetch
from cognix.store.deb import unpack_deb
from cognix.store.entries import entry_key, make_entry
from cognix.store.source import parse_dockerignore, source_files
from cognix.store.wheel import install_wheel

__all__ = [
    "add_file",
    "blob_path",
    "cache_dir",
    "cached",
    "entry_key",
    "fetch",
    "install_wheel",
    "make_entry",
    "parse_dockerignore",
    "source_files",
    "unpack_deb",
]
