"""The system/postinst entry on plain trees: postinst scripts read from deb entries, alternatives links placed as
update-alternatives places them (the tools' caches are covered by the slow image tests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cognix.engines.native import fixups as F
from cognix.image.plan import Entry
from cognix.store.alternatives import Chosen, Slave


def deb(root: Path, package: str, files: dict[str, bytes | str], postinst: str | None = None) -> Entry:
    tree = root / package / "tree"
    tree.mkdir(parents=True)
    for rel, data in files.items():
        path = tree / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            os.symlink(data, path)
        else:
            path.write_bytes(data)
    control = root / package / "control"
    control.mkdir()
    if postinst is not None:
        (control / "postinst").write_text(postinst)
    return Entry(name=f"deb/{package}_1.0_amd64", root=str(tree), size=0, digest=f"d-{package}")


def system(root: Path) -> Entry:
    tree = root / "system" / "tree"
    (tree / "usr").mkdir(parents=True)
    for name in ("bin", "sbin", "lib", "lib64"):
        os.symlink(f"usr/{name}", tree / name)
    return Entry(name="system", root=str(tree), size=0, digest="d-system")


BLAS = "#!/bin/sh\nupdate-alternatives --install /usr/lib/x86_64-linux-gnu/libblas.so.3 \\\n  libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/blas/libblas.so.3 10\n"
NC = """#!/bin/sh
update-alternatives --install /bin/nc nc /bin/nc.openbsd 50 \\
    --slave /bin/netcat netcat /bin/nc.openbsd \\
    --slave /usr/share/man/man1/nc.1.gz nc.1.gz /usr/share/man/man1/nc_openbsd.1.gz
update-alternatives --install /usr/bin/awk awk /usr/bin/nc.openbsd 1
"""


def test_registered_reads_each_deb_entry_postinst(tmp_path: Path) -> None:
    entries = [deb(tmp_path, "libblas3", {}, BLAS), deb(tmp_path, "plain", {}), system(tmp_path)]
    calls, notes = F.registered(entries)
    assert notes == [] and [(p, i.name) for p, i in calls] == [("libblas3", "libblas.so.3-x86_64-linux-gnu")]


def test_alternatives_links_merged_usr_real_files_and_missing_dirs(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    (scratch / "usr/bin").mkdir(parents=True)
    os.symlink("usr/bin", scratch / "bin")
    (scratch / "usr/bin/awk").write_text("a real file")
    os.symlink("/old/target", scratch / "usr/bin/pager")
    chosen = [Chosen("nc", "/bin/nc", "/bin/nc.openbsd", 50, "netcat-openbsd",
                     (Slave("/usr/share/man/man1/nc.1.gz", "nc.1.gz", "/usr/share/man/man1/nc_openbsd.1.gz"),)),
              Chosen("awk", "/usr/bin/awk", "/usr/bin/mawk", 5, "mawk"),
              Chosen("pager", "/usr/bin/pager", "/usr/bin/less", 77, "less")]
    assert F.alternatives_links(scratch, chosen) == {
        "etc/alternatives/nc": "/usr/bin/nc.openbsd",
        "usr/bin/nc": "/etc/alternatives/nc",  # /bin/nc: through the merged-/usr link
        "etc/alternatives/nc.1.gz": "/usr/share/man/man1/nc_openbsd.1.gz",  # its link's directory is absent
        "etc/alternatives/awk": "/usr/bin/mawk",  # /usr/bin/awk is a real file: left alone
        "etc/alternatives/pager": "/usr/bin/less",
        "usr/bin/pager": "/etc/alternatives/pager",  # a symlink is replaced
    }


def test_entry_holds_the_links_and_no_cache_without_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COGNIX_CACHE_DIR", str(tmp_path / "cache"))
    debs = [deb(tmp_path, "libblas3", {"usr/lib/x86_64-linux-gnu/blas/libblas.so.3": b"\x7fELF"}, BLAS),
            deb(tmp_path, "netcat-openbsd", {"usr/bin/nc.openbsd": b"nc", "usr/share/man/man1/nc_openbsd.1.gz": b""},
                NC)]
    sys_entry = system(tmp_path)
    entry = F.fixups_entry([*debs, sys_entry], [], epoch=1)
    tree = Path(entry.root)
    links = {str(p.relative_to(tree)): os.readlink(p) for p in sorted(tree.rglob("*")) if p.is_symlink()}
    assert links == {
        "etc/alternatives/awk": "/usr/bin/nc.openbsd",
        "etc/alternatives/libblas.so.3-x86_64-linux-gnu": "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3",
        "etc/alternatives/nc": "/usr/bin/nc.openbsd",
        "etc/alternatives/nc.1.gz": "/usr/share/man/man1/nc_openbsd.1.gz",
        "etc/alternatives/netcat": "/usr/bin/nc.openbsd",
        "usr/bin/awk": "/etc/alternatives/awk",
        "usr/bin/nc": "/etc/alternatives/nc",
        "usr/bin/netcat": "/etc/alternatives/netcat",
        "usr/lib/x86_64-linux-gnu/libblas.so.3": "/etc/alternatives/libblas.so.3-x86_64-linux-gnu",
        "usr/share/man/man1/nc.1.gz": "/etc/alternatives/nc.1.gz",
    }
    assert not (tree / "etc/ld.so.cache").exists() and "no ldconfig" in capsys.readouterr().err
    assert entry.name == F.NAME and sorted(entry.references) == sorted(e.name for e in [*debs]) + ["system"]
    # the key covers the postinst scripts: another script, another entry
    (Path(debs[1].root).parent / "control" / "postinst").write_text("#!/bin/sh\n")
    assert F.fixups_entry([*debs, sys_entry], [], epoch=1).root != entry.root


def test_epoch_of() -> None:
    assert F.epoch_of("1970-01-01T00:00:01Z") == 1 and F.epoch_of("2024-01-01T00:00:00Z") == 1704067200
