"""Resolution against a small hand-written archive served from 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from cognix.errors import LockError
from cognix.lock.debian import resolve_debs
from cognix.lock.debian.index import cache_dir, parse_packages

DATES = {
    "tiny": "Sat, 11 Jul 2026 10:16:37 UTC",
    "tiny-updates": "Fri, 20 Nov 2026 02:11:10 UTC",
    "tiny-security": "Fri, 20 Nov 2026 00:12:41 UTC",
}


def para(name: str, version: str, arch: str = "amd64", **fields: str) -> str:
    """One Packages paragraph; the .deb's sha256/size are made up from its name (never fetched here)."""
    pool = f"pool/main/{name[0]}/{name}/{name}_{version.split(':')[-1]}_{arch}.deb"
    lines = [f"Package: {name}", f"Version: {version}", f"Architecture: {arch}", "Maintainer: Test <t@example.invalid>"]
    lines += [f"{key.replace('_', '-')}: {value}" for key, value in fields.items()]
    lines += [
        f"Filename: {pool}",
        f"Size: {len(name) * 100}",
        f"SHA256: {hashlib.sha256(f'{name} {version}'.encode()).hexdigest()}",
        "Description: test package",
        " with a continuation line: Depends: not-a-field",
    ]
    return "\n".join(lines) + "\n"


RELEASE_PKGS = [
    para("libc6", "2.36-9", Depends="libgcc-s1"),
    para("libgcc-s1", "12.2.0-14", Depends="gcc-12-base (= 12.2.0-14), libc6 (>= 2.35)"),
    para("gcc-12-base", "12.2.0-14"),
    para("python3.11", "3.11.2-6+deb12u1", Depends="python3.11-minimal (= 3.11.2-6+deb12u1), media-types | mime-support"),
    para("python3.11-minimal", "3.11.2-6+deb12u1", Pre_Depends="libc6 (>= 2.36)", Depends="zlib1g (>= 1:1.2.0)"),
    para("zlib1g", "1:1.2.13.dfsg-1", Depends="libc6 (>= 2.14)", Provides="libz1 (= 1:1.2.13.dfsg-1)"),
    para("media-types", "10.0.0", "all"),
    para("mime-support", "3.66", "all"),
    # alternatives: already-chosen wins over the first alternative
    para("alt-user", "1.0", Depends="alt-first | alt-second, alt-pinner"),
    para("alt-pinner", "1.0", Depends="alt-second"),
    para("alt-first", "1.0"),
    para("alt-second", "1.0"),
    para("alt-plain", "1.0", Depends="alt-missing | alt-first"),
    # provides: unversioned virtual, versioned virtual
    para("mta-user", "1.0", Depends="mail-transport-agent"),
    para("postfix", "3.7", Provides="mail-transport-agent"),
    para("exim4", "4.96", Provides="mail-transport-agent"),
    para("zlib-user", "1.0", Depends="libz1 (>= 1:1.2)"),
    para("vprov-user", "1.0", Depends="mail-transport-agent (>= 1)"),
    # excluded packages and their groups
    para("configured", "1.0", "all", Depends="debconf (>= 0.5) | debconf-2.0, libc6", Pre_Depends="dpkg (>= 1.17)"),
    para("debconf", "1.5.82", "all"),
    para("dpkg", "1.21.22"),
    # arch qualifiers and restrictions
    para("qual-user", "1.0", Depends="python3.11:any (>= 3.11), libc6:amd64, armonly [arm64], notamd [!amd64]"),
    para("armonly", "1.0", "arm64"),
    # unsatisfiable chain
    para("top", "1.0", Depends="middle"),
    para("middle", "1.0", Depends="bottom (>= 9)"),
    para("bottom", "1.0"),
    para("ffmpeg", "7:5.1.6-0+deb12u1", Depends="libc6"),
]
UPDATES_PKGS = [para("libc6", "2.36-9+deb12u4", Depends="libgcc-s1")]
SECURITY_PKGS = [
    para("python3.11", "3.11.2-6+deb12u9", Depends="python3.11-minimal (= 3.11.2-6+deb12u9), media-types | mime-support"),
    para("python3.11-minimal", "3.11.2-6+deb12u9", Pre_Depends="libc6 (>= 2.36)", Depends="zlib1g (>= 1:1.2.0)"),
    # older than the release suite's: must lose
    para("bottom", "0.5"),
]


def write_suite(root: Path, suite: str, paragraphs: list[str], *, compress: str = "gz") -> None:
    text = "\n".join(paragraphs).encode()
    data = gzip.compress(text, mtime=0) if compress == "gz" else text
    name = "main/binary-amd64/Packages" + (".gz" if compress == "gz" else "")
    dists = root / "dists" / suite
    (dists / name).parent.mkdir(parents=True)
    (dists / name).write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    (dists / "Release").write_text(
        f"Origin: Test\nSuite: {suite}\nCodename: {suite}\nDate: {DATES[suite]}\n"
        f"Architectures: amd64\nComponents: main\nSHA256:\n {sha} {len(data)} {name}\n"
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class Archive:
    """Two mirror roots (main and security) under one local HTTP server."""

    def __init__(self, root: Path) -> None:
        self.root = root
        handler = lambda *a, **k: _Quiet(*a, directory=str(root), **k)  # noqa: E731
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.mirror, self.security = f"{base}/debian", f"{base}/debian-security"

    def resolve(self, packages: list[str], **kw):
        kw.setdefault("security_mirror", self.security)
        return resolve_debs("tiny", packages, mirror=self.mirror, **kw)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def archive(tmp_path, monkeypatch):
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "www"
    write_suite(root / "debian", "tiny", RELEASE_PKGS)
    write_suite(root / "debian", "tiny-updates", UPDATES_PKGS, compress="none")
    write_suite(root / "debian-security", "tiny-security", SECURITY_PKGS)
    arc = Archive(root)
    yield arc
    arc.close()


def by_name(resolution) -> dict:
    return {d.package: d for d in resolution.debs}


def test_newest_version_wins_across_suites(archive):
    res = archive.resolve(["python3.11"])
    debs = by_name(res)
    assert sorted(debs) == [
        "gcc-12-base", "libc6", "libgcc-s1", "media-types", "python3.11", "python3.11-minimal", "zlib1g",
    ]
    py = debs["python3.11"]
    assert (py.version, py.suite, py.release_date) == ("3.11.2-6+deb12u9", "tiny-security", DATES["tiny-security"])
    assert py.url == f"{archive.security}/{py.filename}" and py.filename.startswith("pool/main/p/python3.11/")
    assert py.depends == ["media-types", "python3.11-minimal"]
    assert (debs["libc6"].version, debs["libc6"].suite) == ("2.36-9+deb12u4", "tiny-updates")
    assert debs["zlib1g"].suite == "tiny" and debs["zlib1g"].url.startswith(archive.mirror + "/pool/")
    assert res.mirror == archive.mirror
    assert res.release_dates == DATES
    assert debs["python3.11-minimal"].depends == ["libc6", "zlib1g"]  # Pre-Depends followed too
    assert debs["python3.11"].sha256 == hashlib.sha256(b"python3.11 3.11.2-6+deb12u9").hexdigest()
    assert debs["python3.11"].size == len("python3.11") * 100


def test_older_version_in_later_suite_loses(archive):
    assert by_name(archive.resolve(["bottom"]))["bottom"].version == "1.0"


def test_alternatives(archive):
    debs = by_name(archive.resolve(["alt-user"]))
    # alt-pinner needs alt-second; `alt-first | alt-second` then takes the already chosen one
    assert "alt-first" not in debs and debs["alt-user"].depends == ["alt-pinner", "alt-second"]
    debs = by_name(archive.resolve(["alt-plain"]))
    assert debs["alt-plain"].depends == ["alt-first"]  # first satisfiable, skipping the missing one
    debs = by_name(archive.resolve(["python3.11"]))
    assert "mime-support" not in debs


def test_provides(archive):
    debs = by_name(archive.resolve(["mta-user"]))
    assert debs["mta-user"].depends == ["exim4"]  # providers in name order
    assert "postfix" not in debs
    debs = by_name(archive.resolve(["mta-user", "postfix"]))
    assert debs["mta-user"].depends == ["postfix"] and "exim4" not in debs  # an explicit choice is preferred
    assert by_name(archive.resolve(["zlib-user"]))["zlib-user"].depends == ["zlib1g"]  # versioned provides
    with pytest.raises(LockError, match=r"vprov-user needs mail-transport-agent \(>= 1\)"):
        archive.resolve(["vprov-user"])  # unversioned provides can't satisfy a versioned dependency


def test_virtual_package_requested_by_name(archive):
    assert "zlib1g" in by_name(archive.resolve(["libz1"]))
    with pytest.raises(LockError, match="virtual, provided by exim4, postfix"):
        archive.resolve(["mail-transport-agent"])


def test_excluded_packages_are_left_out(archive):
    debs = by_name(archive.resolve(["configured"]))
    assert sorted(debs) == ["configured", "gcc-12-base", "libc6", "libgcc-s1"]
    assert debs["configured"].depends == ["libc6"]
    # asked for by name: installed, and then it satisfies the group
    debs = by_name(archive.resolve(["configured", "debconf"]))
    assert debs["configured"].depends == ["debconf", "libc6"]


def test_arch_qualifiers_and_restrictions(archive):
    debs = by_name(archive.resolve(["qual-user"]))
    assert "armonly" not in debs and "notamd" not in debs
    assert debs["qual-user"].depends == ["libc6", "python3.11"]
    with pytest.raises(LockError, match="is not in"):
        archive.resolve(["armonly"])  # an arm64-only package is not a candidate on amd64


def test_unknown_package_did_you_mean(archive):
    with pytest.raises(LockError) as err:
        archive.resolve(["ffmpg"])
    assert "'ffmpg' is not in tiny, tiny-security, tiny-updates" in str(err.value)
    assert "did you mean 'ffmpeg'" in str(err.value)


def test_unsatisfiable_dependency_names_the_chain(archive):
    with pytest.raises(LockError) as err:
        archive.resolve(["top"])
    assert "top -> middle needs bottom (>= 9)" in str(err.value)
    assert "bottom 1.0" in str(err.value)


def test_deterministic_and_order_independent(archive):
    a = archive.resolve(["python3.11", "alt-user", "configured"])
    b = archive.resolve(["configured", "alt-user", "python3.11", "python3.11"])
    assert a == b
    assert [d.package for d in a.debs] == sorted(d.package for d in a.debs)
    assert all(d.depends == sorted(d.depends) for d in a.debs)


def test_release_hash_mismatch(archive):
    index = archive.root / "debian" / "dists" / "tiny" / "main" / "binary-amd64" / "Packages.gz"
    index.write_bytes(gzip.compress(b"Package: evil\nVersion: 1\n", mtime=0))
    with pytest.raises(LockError) as err:
        archive.resolve(["libc6"])
    assert "main/binary-amd64/Packages.gz of tiny does not match its Release file" in str(err.value)


def test_index_cache_is_keyed_by_hash(archive):
    first = archive.resolve(["python3.11"])
    cached = sorted(p.name for p in (cache_dir() / "indexes").iterdir())
    assert len(cached) == 3
    # the index is gone from the mirror, the Release is unchanged: the cache answers (the parsed index, once the
    # merged universe made from it is gone too)
    (archive.root / "debian" / "dists" / "tiny" / "main" / "binary-amd64" / "Packages.gz").unlink()
    assert archive.resolve(["python3.11"]) == first
    shutil.rmtree(cache_dir() / "universes")
    assert archive.resolve(["python3.11"]) == first


def test_cached_universe_resolves_as_a_fresh_one(archive):
    fresh = archive.resolve(["python3.11", "libc6"])
    (universe_file,) = (cache_dir() / "universes").iterdir()
    assert archive.resolve(["python3.11", "libc6"]) == fresh  # from the cached universe
    universe_file.write_text('{"candidates": {"libc6": [1]}, "provides": {}}')  # damaged
    with pytest.raises(LockError, match="cached Debian package universe is damaged"):
        archive.resolve(["libc6"])
    universe_file.write_text("not json")  # unreadable: made again from the indexes
    assert archive.resolve(["python3.11", "libc6"]) == fresh


def test_missing_updates_and_security_suites_are_skipped(archive):
    res = archive.resolve(["python3.11"], security_mirror=None)
    assert set(res.release_dates) == {"tiny", "tiny-updates"}
    assert by_name(res)["python3.11"].version == "3.11.2-6+deb12u1"


def test_missing_release_suite(archive):
    with pytest.raises(LockError, match="suite other is not at"):
        resolve_debs("other", ["libc6"], mirror=archive.mirror)


def test_parse_packages_joins_continuations():
    text = b"Package: a\nVersion: 1\nDepends: b,\n c (>= 2)\nDescription: x\n Depends: fake\n\nPackage: b\nVersion: 2\n"
    assert parse_packages(text) == [
        {"Package": "a", "Version": "1", "Depends": "b, c (>= 2)"},
        {"Package": "b", "Version": "2"},
    ]


def test_bad_inrelease_signature_is_refused(archive):
    import shutil

    from cognix.lock.debian.index import DEFAULT_KEYRING

    if shutil.which("gpgv") is None or not DEFAULT_KEYRING.is_file():
        pytest.skip("needs gpgv and Debian's archive keyring (Debian packages gpgv, debian-archive-keyring)")
    dists = archive.root / "debian" / "dists" / "tiny"
    release = (dists / "Release").read_text()
    (dists / "InRelease").write_text(
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + release
        + "-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCAAdFiEE\n=AAAA\n-----END PGP SIGNATURE-----\n"
    )
    with pytest.raises(LockError, match="signature of .*/dists/tiny/InRelease does not verify"):
        archive.resolve(["libc6"])


def test_progress_reports_downloads(archive):
    events = []

    class Recorder:
        def start(self, label, total=None):
            events.append(("start", label))

        def advance(self, amount=1):
            events.append(("advance", amount))

        def done(self):
            events.append(("done",))

    archive.resolve(["libc6"], progress=Recorder())
    labels = [e[1] for e in events if e[0] == "start"]
    assert any(label.startswith("fetching the Packages indexes of tiny") for label in labels)
    assert events.count(("done",)) == len(labels)


def test_did_you_mean_ignores_case(archive):
    with pytest.raises(LockError, match="did you mean 'ffmpeg'"):
        archive.resolve(["FFmpeg"])
