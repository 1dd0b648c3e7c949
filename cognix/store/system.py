"""The generated "system setup" entry: what Debian's maintainer scripts would have done for an image.

- /etc/passwd, /etc/group (root and the non-root user), /tmp, /var/tmp and the weights cache, world-writable with the
  sticky bit (owned by root in the layer, as everything of this entry).
- The user's HOME and its ~/.cache are a tree of their own (build_home_tree), which the image gives to the user.
- /etc/ssl/certs/ca-certificates.crt: the PEM files of /usr/share/ca-certificates concatenated in sorted order,
  as update-ca-certificates does with Debian's default configuration (every certificate enabled).
- python and python3 links to the locked interpreter, beside it (/usr/bin for Debian's, /usr/local/bin for a
  standalone one).
- /etc/ld.so.conf (including ld.so.conf.d): the ld.so.cache itself, the alternatives links and font caches that
  maintainer scripts would make come from the image's own tools, in their own entry (engines/native/fixups.py).
- /etc/nsswitch.conf, so name lookups use files then DNS.
- /bin, /sbin, /lib, /lib64 as links into /usr (merged /usr, as Debian installs are); /sbin/tini (Cog's entrypoint
  path) as a link to Debian's /usr/bin/tini.
"""

from __future__ import annotations

import os
from pathlib import Path

from cognix.lock.model import PythonLayout
from cognix.store.deb import MERGED_DIRS

from cognix.image.spec import HOME, UID, USER, WEIGHTS_CACHE, system_spec  # noqa: F401 (USER, UID: re-exported)

SYSTEM_FORMAT = "5"  # bump when the generated content changes (2: merged /usr, 3: HOME apart, 4: /sbin/tini, 5: FHS dirs)
_HOME_DIRS = (HOME.lstrip("/"), f"{HOME.lstrip('/')}/.cache")


def ca_bundle(trees: list[Path]) -> bytes:
    """The CA bundle from every tree's /usr/share/ca-certificates/**/*.crt, sorted by path."""
    found: dict[str, Path] = {}
    for tree in trees:
        base = tree / "usr/share/ca-certificates"
        if base.is_dir():
            for crt in base.rglob("*.crt"):
                found[crt.relative_to(base).as_posix()] = crt
    parts = []
    for rel in sorted(found):
        data = found[rel].read_bytes()
        parts.append(data if data.endswith(b"\n") else data + b"\n")
    return b"".join(parts)


def _write(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)


def build_system_tree(tree: Path, *, python: PythonLayout, ca_pem: bytes) -> None:
    (tree / "usr").mkdir(parents=True, exist_ok=True)
    for name in MERGED_DIRS:  # merged /usr: the .deb trees hold these under /usr
        os.symlink(f"usr/{name}", tree / name)
    spec = system_spec()
    for f in spec.files:  # passwd, group, nsswitch.conf, ld.so.conf (cognix.image.spec)
        _write(tree / f.path, f.text, int(f.mode, 8))
    if ca_pem:
        _write(tree / "etc/ssl/certs/ca-certificates.crt", ca_pem)
    for d in spec.dirs:  # the world-writable ones and root's home; HOME is a tree of its own (build_home_tree)
        if d.path not in _HOME_DIRS:
            (tree / d.path).mkdir(parents=True, exist_ok=True)
            os.chmod(tree / d.path, int(d.mode, 8))
    # the directories Debian's base-files makes (build.run steps write there: curl -o /usr/local/bin/x, /opt/...)
    for d in (*(f"usr/local/{x}" for x in ("bin", "sbin", "lib", "include", "share", "src", "etc")),
              "opt", "srv", "mnt", "media", "run", "var/lib", "var/log", "var/local", "var/opt"):
        (tree / d).mkdir(parents=True, exist_ok=True)
    # Cog's images start with /sbin/tini; platforms and the Cog CLI that name it find it here too
    (tree / "usr/sbin").mkdir(parents=True, exist_ok=True)
    os.symlink("../bin/tini", tree / "usr/sbin/tini")
    bindir = tree / python.scripts.lstrip("/")
    bindir.mkdir(parents=True, exist_ok=True)
    for link in ("python", "python3"):
        os.symlink(os.path.basename(python.executable), bindir / link)


def build_home_tree(tree: Path) -> None:
    """HOME and its default cache directory (XDG_CACHE_HOME, and so torch's and Hugging Face's caches)."""
    for d in system_spec().dirs:
        if d.path in _HOME_DIRS:
            (tree / d.path).mkdir(parents=True, exist_ok=True)
            os.chmod(tree / d.path, int(d.mode, 8))
