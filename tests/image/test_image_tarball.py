"""Layer tars: entry order, normalised metadata, determinism, merging, the digest cache, gzip."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest
from image_trees import make_system_tree

from cognix.errors import ImageError
from cognix.image import layers as layers_module
from cognix.image.compress import GzipWriter
from cognix.image.layers import cached_blob, layer_info, write_blob
from cognix.image.plan import Entry, Layer
from cognix.image.tarball import write_layer

MTIME = 1


def _layer(*roots: Path, digest: str | None = None) -> Layer:
    return Layer(entries=[Entry(name=f"e{i}", root=str(r), size=0, digest=digest) for i, r in enumerate(roots)])


def _tar(layer: Layer, mtime: int = MTIME) -> bytes:
    out = io.BytesIO()
    info = write_layer(layer, out, mtime)
    assert info.size == len(out.getvalue())
    return out.getvalue()


def _members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return archive.getmembers()


def test_entries_sorted_with_fixed_metadata(tmp_path: Path) -> None:
    tree = make_system_tree(tmp_path / "t")
    os.mkfifo(tree / "etc" / "fifo")  # never goes into an image
    members = _members(_tar(_layer(tree)))
    assert [m.name for m in members] == [
        "etc",
        "etc/passwd",
        "usr",
        "usr/bin",
        "usr/bin/tool",
        "usr/lib",
        "usr/lib/deep",
        "usr/lib/deep/er",
        "usr/lib/deep/er/secret",
        "usr/lib/deep/hard",
        "usr/lib/libx.so",
        "usr/lib/libx.so.1",
    ]
    for m in members:
        assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (MTIME, 0, 0, "root", "root")
        assert m.pax_headers == {}
    by_name = {m.name: m for m in members}
    assert by_name["usr/lib/deep/er"].isdir() and by_name["usr/lib/deep/er"].mode == 0o755
    assert by_name["usr/bin/tool"].mode == 0o755  # setuid dropped, exec kept
    assert by_name["usr/lib/deep/er/secret"].mode == 0o644
    assert by_name["usr/lib/libx.so"].issym() and by_name["usr/lib/libx.so"].linkname == "libx.so.1"
    hard = by_name["usr/lib/deep/hard"]
    assert hard.isreg() and hard.size == by_name["usr/lib/libx.so.1"].size  # hard link stored as a file


def test_same_content_same_bytes_whatever_the_disk_metadata(tmp_path: Path) -> None:
    first = make_system_tree(tmp_path / "a", file_mode=0o644, mtime=1_000_000)
    old = os.umask(0o077)
    try:
        second = make_system_tree(tmp_path / "b", file_mode=0o600, mtime=2_000_000)
    finally:
        os.umask(old)
    if os.geteuid() == 0:
        for dirpath, dirnames, filenames in os.walk(second):
            for name in dirnames + filenames:
                os.chown(os.path.join(dirpath, name), 1234, 5678, follow_symlinks=False)
    assert _tar(_layer(first)) == _tar(_layer(first))
    assert _tar(_layer(first)) == _tar(_layer(second))
    assert _tar(_layer(first), mtime=2) != _tar(_layer(first))


def test_golden_digest_pins_the_format(tmp_path: Path) -> None:
    # The bytes must be the same on every machine and Python: this digest changes only with FORMAT_VERSION.
    info = write_layer(_layer(make_system_tree(tmp_path / "t")), None, MTIME)
    assert info.diff_id == GOLDEN_DIFF_ID
    assert info.size == 13824


GOLDEN_DIFF_ID = "sha256:511f504efb9401cd92efc986d46c9b671b8e5ea4f96dcdea1c10f9bacc2d23e8"


def test_later_entries_win_and_replaced_directories_drop_children(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "usr" / "share" / "doc").mkdir(parents=True)
    (a / "usr" / "share" / "doc" / "README").write_text("old doc")
    (a / "etc").mkdir()
    (a / "etc" / "conf").write_text("old")
    (b / "etc").mkdir(parents=True)
    (b / "etc" / "conf").write_text("new!")
    (b / "usr").mkdir()
    os.symlink("/elsewhere", b / "usr" / "share")
    data = _tar(_layer(a, b))
    members = _members(data)
    assert [m.name for m in members] == ["etc", "etc/conf", "usr", "usr/share"]
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        assert archive.extractfile("etc/conf").read() == b"new!"  # type: ignore[union-attr]
    assert members[-1].issym()


def test_long_and_unicode_names_round_trip(tmp_path: Path) -> None:
    deep = tmp_path / "t" / ("d" * 90) / ("é" * 60)
    deep.mkdir(parents=True)
    (deep / ("f" * 200)).write_text("x")
    os.symlink("t" * 150, deep / "link")
    data = _tar(_layer(tmp_path / "t"))
    assert data == _tar(_layer(tmp_path / "t"))
    names = [m.name for m in _members(data)]
    assert names[-2:] == [f"{'d' * 90}/{'é' * 60}/{'f' * 200}", f"{'d' * 90}/{'é' * 60}/link"]
    assert _members(data)[-1].linkname == "t" * 150


def test_missing_tree_is_an_image_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no tree"):
        write_layer(_layer(tmp_path / "absent"), None, MTIME)


def test_cache_skips_rehashing_and_notices_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = make_system_tree(tmp_path / "t")
    calls = []
    real = layers_module.write_layer
    monkeypatch.setattr(layers_module, "write_layer", lambda *a: calls.append(1) or real(*a))
    first = layer_info(_layer(tree), MTIME)
    assert layer_info(_layer(tree), MTIME) == first and len(calls) == 1
    (tree / "etc" / "passwd").write_text("changed\n")  # stat fingerprint changes
    second = layer_info(_layer(tree), MTIME)
    assert len(calls) == 2 and second != first
    # With an engine-given content digest the tree is not even walked twice.
    layer_info(_layer(tree, digest="sha256:abc"), MTIME)
    layer_info(_layer(tree, digest="sha256:abc"), MTIME)
    assert len(calls) == 3


def test_gzip_is_deterministic_and_valid(tmp_path: Path) -> None:
    layer = _layer(make_system_tree(tmp_path / "t"))
    outs = [io.BytesIO(), io.BytesIO()]
    blobs = [write_blob(layer, MTIME, out) for out in outs]
    assert outs[0].getvalue() == outs[1].getvalue() and blobs[0] == blobs[1]
    raw = outs[0].getvalue()
    assert raw[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no mtime, no name, OS unknown
    assert gzip.decompress(raw) == _tar(layer)
    assert cached_blob(layer, MTIME) == blobs[0][1]


def test_gzip_writer_empty_input() -> None:
    out = io.BytesIO()
    writer = GzipWriter(out)
    writer.close()
    assert gzip.decompress(out.getvalue()) == b""


def test_sticky_shared_directories_keep_1777(tmp_path: Path) -> None:
    # /tmp must stay writable for the image's non-root user; other directories are normalised to 0755.
    tree = tmp_path / "t"
    (tree / "tmp").mkdir(parents=True)
    (tree / "open").mkdir()
    (tree / "tmp" / "x").write_text("x")
    (tree / "tmp").chmod(0o1777)
    (tree / "open").chmod(0o777)
    modes = {m.name: m.mode for m in _members(_tar(_layer(tree)))}
    assert modes == {"open": 0o755, "tmp": 0o1777, "tmp/x": 0o644}
