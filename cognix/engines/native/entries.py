"""Turning a Lock into store entries: debs, wheels, the runtime, the system setup and the model's source."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from cognix.errors import StoreError
from cognix.parallel import map_bounded
from cognix.image.plan import Entry
from cognix.lock.debian.suites import SETUP_PACKAGES
from cognix.lock.model import Deb, Lock, PythonLayout, StandalonePython, Wheel
from cognix.progress import Progress, Silent
from cognix.store import cache
from cognix.store.deb import DEB_FORMAT, control_dir, unpack_deb
from cognix.store.entries import entry_key, make_entry
from cognix.store.runtime import build_runtime_tree, runtime_files, runtime_key
from cognix.store.source import copy_source, source_files
from cognix.store.standalone import PATCH_FORMAT, unpack_standalone
from cognix.store.system import SYSTEM_FORMAT, build_home_tree, build_system_tree, ca_bundle
from cognix.store.wheel import install_wheel


def deb_entry_name(deb: Deb) -> str:
    return f"deb/{deb.package}_{deb.version}_{deb.architecture}"


def wheel_entry_name(wheel: Wheel) -> str:
    return f"wheel/{wheel.name}-{wheel.version}"


def snapshot_timestamp(release_date: str, *, delay: timedelta = timedelta(0)) -> str:
    """A Release file's Date: (plus delay) as the snapshot archive's path component (YYYYmmddTHHMMSSZ)."""
    moment: datetime = parsedate_to_datetime(release_date).astimezone(UTC) + delay
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _archive_name(deb: Deb) -> str | None:
    """The archive a .deb came from: the URL path segment before its pool path (e.g. debian-security)."""
    head = deb.url[: -len(deb.filename)] if deb.url.endswith(deb.filename) else ""
    name = head.rstrip("/").rsplit("/", 1)[-1]
    return name or None


def snapshot_urls(snapshot_url: str, deb: Deb) -> list[str]:
    """Where a snapshot archive keeps a locked .deb: BASE/<release date>/<pool path>.

    The snapshot at exactly the Release file's date may predate that publication, so the one a day later is
    tried as well. A base naming the `debian` archive is switched to the .deb's own archive (debian-security).
    """
    base = snapshot_url.rstrip("/")
    archive = _archive_name(deb)
    parent, _, last = base.rpartition("/")
    if archive and archive != last and last == "debian" and parent:
        base = f"{parent}/{archive}"
    return [f"{base}/{snapshot_timestamp(deb.release_date, delay=d)}/{deb.filename}"
            for d in (timedelta(0), timedelta(days=1))]


def fetch_deb(deb: Deb, *, offline: bool, snapshot_url: str | None, progress: Progress, client: httpx.Client) -> Path:
    name = f"{deb.package}_{deb.version}"
    try:
        return cache.fetch(deb.url, deb.sha256, deb.size, name, offline=offline, progress=progress, client=client)
    except cache.NotFound:
        for url in snapshot_urls(snapshot_url, deb) if snapshot_url else []:
            try:
                return cache.fetch(url, deb.sha256, deb.size, name, progress=progress, client=client)
            except cache.NotFound:
                continue
        raise StoreError(
            f"Debian package {deb.package} {deb.version} ({deb.architecture}) is gone from the mirror"
            + (" and from the snapshot archive" if snapshot_url else ""),
            where=deb.url,
            fix="pass --snapshot-url with a Debian snapshot archive base URL (the lock's Release date "
            f"{deb.release_date!r} picks the snapshot), or `cognix import-inputs DIR` from a directory made by "
            "`cognix export-inputs` on a machine that has it, or run `cognix lock` again to move to current versions",
        ) from None


def fetch_wheel(wheel: Wheel, *, offline: bool, progress: Progress, client: httpx.Client) -> Path:
    return cache.fetch(wheel.url, wheel.sha256, wheel.size, wheel.filename, offline=offline, progress=progress,
                       client=client)


def fetch_python(python: StandalonePython, *, offline: bool, progress: Progress, client: httpx.Client) -> Path:
    try:
        return cache.fetch(python.url, python.sha256, python.size, python.filename, offline=offline,
                           progress=progress, client=client)
    except cache.NotFound:
        raise StoreError(f"the interpreter archive {python.filename} is gone from its mirror", where=python.url,
                         fix="`cognix import-inputs DIR` from a machine that has it, or run `cognix lock --python-mirror "
                             "URL` against a mirror that keeps python-build-standalone's releases") from None


def fetch_sdist(wheel: Wheel, *, offline: bool, progress: Progress, client: httpx.Client | None = None) -> Path:
    assert wheel.sdist is not None
    s = wheel.sdist
    return cache.fetch(s.url, s.sha256, s.size, s.filename, offline=offline, progress=progress, client=client)


FETCH_WORKERS = 8  # downloads at once: enough to fill a link, few enough to be polite to a mirror
BUILD_WORKERS = max(2, min(8, os.cpu_count() or 1))  # store trees made at once


def fetch_all(lock: Lock, *, offline: bool = False, snapshot_url: str | None = None,
              progress: Progress | None = None, build_inputs: bool = False) -> dict[str, Path]:
    """sha256 -> cached file for every .deb and downloadable wheel of the lock (and its standalone interpreter).

    Up to FETCH_WORKERS downloads run at once (each hashed as it arrives), with one progress line for all of them.
    Wheels built from sdists are not downloads (cognix.engines.native.sdists makes them); with `build_inputs`,
    what their builds need is fetched too: the sdists, build requirements and the toolchain's debs."""
    progress = progress or Silent()
    debs = [*lock.debs, *lock.build_debs] if build_inputs else [*lock.debs, *setup_debs(lock)]
    wheels = [w for w in lock.wheels if w.sdist is None] + (lock.build_wheels if build_inputs else [])
    sdists = [w for w in lock.wheels if w.sdist is not None] if build_inputs else []
    with httpx.Client(follow_redirects=True, timeout=httpx.Timeout(60.0, connect=20.0),
                      limits=httpx.Limits(max_connections=FETCH_WORKERS)) as client:
        shared = SharedProgress(progress)
        jobs: list[tuple[str, int, Callable[[], Path]]] = []
        if lock.python is not None:
            py = lock.python
            jobs.append((py.sha256, py.size, lambda: fetch_python(py, offline=offline, progress=shared, client=client)))
        jobs += [(d.sha256, d.size, lambda d=d: fetch_deb(d, offline=offline, snapshot_url=snapshot_url,
                                                           progress=shared, client=client)) for d in debs]
        jobs += [(w.sha256, w.size, lambda w=w: fetch_wheel(w, offline=offline, progress=shared, client=client))
                 for w in wheels]
        jobs += [(w.sdist.sha256, w.sdist.size,  # type: ignore[union-attr]
                  lambda w=w: fetch_sdist(w, offline=offline, progress=shared, client=client)) for w in sdists]
        missing = [(sha, size) for sha, size, _ in jobs if cache.cached(sha, size) is None]
        shared.begin(f"fetching {len(missing)} of {len(jobs)} inputs", sum(size for _, size in missing))
        try:
            paths = map_bounded(lambda job: job[2](), jobs, workers=FETCH_WORKERS)
        finally:
            shared.finish()
    return {sha: path for (sha, _size, _call), path in zip(jobs, paths)}


class SharedProgress:
    """One progress line for downloads running at once: their bytes add up; each file's own start/done are quiet."""

    def __init__(self, inner: Progress) -> None:
        self.inner = inner
        self.lock = threading.Lock()
        self.started = False

    def begin(self, label: str, total: int) -> None:
        if total:
            self.inner.start(label, total)
            self.started = True

    def finish(self) -> None:
        if self.started:
            self.inner.done()
            self.started = False

    def start(self, label: str, total: int | None = None) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        with self.lock:
            self.inner.advance(amount)

    def done(self) -> None:
        pass


def deb_entries(debs: list[Deb], files: dict[str, Path]) -> list[Entry]:
    names = {d.package: deb_entry_name(d) for d in debs}

    def entry(deb: Deb) -> Entry:
        path = files[deb.sha256]
        return make_entry(
            entry_key("deb", deb.sha256, DEB_FORMAT), deb_entry_name(deb),
            lambda tree: unpack_deb(cache.verify_cached(path, deb.sha256, deb.size, deb.filename), tree,
                                    control=control_dir(tree)),
            version=deb.version, references=[names[d] for d in deb.depends if d in names],
        )

    return map_bounded(entry, debs, workers=BUILD_WORKERS)


def python_entry(lock: Lock, files: dict[str, Path]) -> Entry | None:
    """The standalone interpreter's tree, or None when the interpreter is Debian's (then it comes as debs)."""
    python = lock.python
    if python is None:
        return None
    layout = lock.target.layout()
    path = files[python.sha256]
    return make_entry(
        entry_key("python", python.sha256, layout.prefix, PATCH_FORMAT), f"python/cpython-{python.version}",
        lambda tree: unpack_standalone(cache.verify_cached(path, python.sha256, python.size, python.filename), tree,
                                       layout.prefix, lock.target.python_version, python.filename),
        version=python.version, references=[deb_entry_name(d) for d in lock.debs if d.package == "libc6"])


def wheel_entries(wheels: list[Wheel], layout: PythonLayout, files: dict[str, Path]) -> list[Entry]:
    """One entry per wheel, installed side by side, in the wheels' order."""
    names = {w.name: wheel_entry_name(w) for w in wheels}

    def entry(wheel: Wheel) -> Entry:
        path = files[wheel.sha256]
        return make_entry(
            entry_key("wheel", wheel.sha256, *_layout_key(layout)), wheel_entry_name(wheel),
            lambda tree: install_wheel(cache.verify_cached(path, wheel.sha256, wheel.size, wheel.filename), layout,
                                       tree, wheel.filename),
            version=wheel.version, references=[names[d] for d in wheel.dependencies if d in names],
        )

    return map_bounded(entry, wheels, workers=BUILD_WORKERS)  # unzipping and hashing release the GIL


def _layout_key(layout) -> tuple[str, ...]:
    """What of the interpreter's layout a tree depends on (for the store key)."""
    return (layout.executable, layout.site_packages, layout.include, layout.scripts, layout.prefix)


def runtime_entry(lock: Lock) -> Entry:
    files = runtime_files()
    version = lock.runtime.version if lock.runtime else ""
    refs = [wheel_entry_name(w) for w in lock.wheels if w.requested]
    layout = lock.target.layout()
    return make_entry(entry_key("runtime", runtime_key(files), layout.site_packages), "runtime",
                      lambda tree: build_runtime_tree(tree, files, layout), version=version, references=refs)


def system_entry(lock: Lock, debs: list[Entry]) -> Entry:
    pem = ca_bundle([Path(e.root) for e in debs])
    layout = lock.target.layout()
    key = entry_key("system", SYSTEM_FORMAT, *_layout_key(layout), hashlib.sha256(pem).hexdigest())
    return make_entry(key, "system", lambda tree: build_system_tree(tree, python=layout, ca_pem=pem),
                      references=sorted(e.name for e in debs))


def installed_dists(wheels: list[Entry], layout: PythonLayout) -> list[tuple[str, str]]:
    """(Name, Version) from each installed wheel's METADATA, as `pip freeze` reads them."""
    out = []
    for entry in wheels:
        site = Path(entry.root) / layout.site_packages.lstrip("/")
        for meta in sorted(site.glob("*.dist-info/METADATA")):
            fields = dict(line.split(": ", 1) for line in meta.read_text(errors="replace").split("\n\n", 1)[0]
                          .splitlines() if ": " in line and not line.startswith(" "))
            if "Name" in fields and "Version" in fields:
                out.append((fields["Name"].strip(), fields["Version"].strip()))
    return out


def home_entry(owner: int) -> Entry:
    """The user's HOME (and ~/.cache), owned by `owner` in the image."""
    entry = make_entry(entry_key("home", SYSTEM_FORMAT), "home", build_home_tree)
    return entry.model_copy(update={"owner": owner})


def setup_debs(lock: Lock) -> list[Deb]:
    """The build-only debs the image's setup step runs from (libc-bin's ldconfig), unless the image has them."""
    image = {d.package for d in lock.debs}
    return [d for d in lock.build_debs if d.package in SETUP_PACKAGES and d.package not in image]


def postinst_entry(lock: Lock, base: list[Entry], files: dict[str, Path], *, created: str) -> Entry:
    """What the debs' maintainer scripts would have left (cognix.engines.native.fixups) over base: the debs, the
    interpreter and the system entry."""
    from cognix.engines.native.fixups import epoch_of, fixups_entry

    return fixups_entry(base, deb_entries(setup_debs(lock), files), epoch=epoch_of(created))


def check_image(lock: Lock, entries: list[Entry], env: list[str], *, only: set[str] | None = None) -> None:
    """Every ELF file of entries (those of `only`) finds its shared libraries (cognix.engines.native.libcheck)."""
    from cognix.engines.native.libcheck import check_libraries

    check_libraries(entries, env, suite=lock.target.debian_suite, mirror=lock.mirror, only=only)


def source_digest(model_dir: Path, files: list[str]) -> str:
    digest = hashlib.sha256()
    for rel in files:
        p = model_dir / rel
        content = p.readlink().as_posix().encode() if p.is_symlink() else p.read_bytes()
        digest.update(f"{rel} {p.is_symlink()} {hashlib.sha256(content).hexdigest()}\n".encode())
    return digest.hexdigest()


def source_entry(model_dir: Path, files: list[str], schema_json: bytes | None,
                 extra: dict[str, bytes] | None = None, owner: int = 0) -> Entry:
    """The /src entry: the filtered model files, /src/.cog/openapi_schema.json and `extra` (/src-relative -> bytes),
    owned by `owner` in the image (models write next to themselves: TORCH_HOME=".", ./cache, outputs)."""
    generated = dict(extra or {})
    if schema_json is not None:
        generated[".cog/openapi_schema.json"] = schema_json

    def build(tree: Path) -> None:
        copy_source(model_dir, files, tree)
        for rel, data in sorted(generated.items()):
            target = tree / "src" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    parts = [f"{rel} {hashlib.sha256(data).hexdigest()}" for rel, data in sorted((extra or {}).items())]
    key = entry_key("src", source_digest(model_dir, files), hashlib.sha256(schema_json or b"").hexdigest(), *parts)
    return make_entry(key, "src", build).model_copy(update={"owner": owner})


def gpu_lib_dirs(lock: Lock) -> list[str]:
    """The nvidia-* wheels' lib directories, for LD_LIBRARY_PATH."""
    dirs = []
    site = lock.target.layout().site_packages
    for wheel in lock.wheels:
        if m := re.fullmatch(r"nvidia-(.+)-cu\d+", wheel.name):
            dirs.append(f"{site}/nvidia/{m.group(1).replace('-', '_')}/lib")
    return sorted(set(dirs))


__all__ = ["deb_entries", "fetch_all", "python_entry", "runtime_entry", "source_entry", "source_files", "system_entry",
           "wheel_entries"]
