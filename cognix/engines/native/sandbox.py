"""Running a command inside an assembled image tree with bubblewrap (no Docker, no root inside needed)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from cognix.errors import StoreError
from cognix.image.plan import Entry


def assemble(entries: list[Entry], dest: Path, *, link: bool = True) -> None:
    """Merge entry trees into dest (later entries win), hard-linking files when link else copying them."""
    for entry in entries:
        root = Path(entry.root)
        for dirpath, dirs, files in os.walk(root):
            rel = os.path.relpath(dirpath, root)
            out_dir = dest / rel if rel != "." else dest
            for name in sorted(dirs):
                src = os.path.join(dirpath, name)
                target = out_dir / name
                if os.path.islink(src):
                    _replace(target)
                    os.symlink(os.readlink(src), target)
                elif target.is_symlink() or (target.exists() and not target.is_dir()):
                    target.unlink()
                    target.mkdir()
                else:
                    target.mkdir(exist_ok=True)
                    os.chmod(target, stat.S_IMODE(os.lstat(src).st_mode) | 0o700)
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(dirpath, d))]
            for name in files:
                src = os.path.join(dirpath, name)
                if name.startswith(".wh.") and name != ".wh..wh..opq":  # OCI whiteout from a run layer
                    _replace(out_dir / name[len(".wh."):])
                    continue
                target = out_dir / name
                _replace(target)
                if os.path.islink(src):
                    os.symlink(os.readlink(src), target)
                elif link:
                    try:
                        os.link(src, target)
                    except OSError:
                        shutil.copy2(src, target)
                else:
                    shutil.copy2(src, target)


def _replace(target: Path) -> None:
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)


# What a step with the network gets from the host, as a container gets them from Docker: name resolution, and the
# host's CA bundle (a machine behind a TLS-inspecting proxy trusts its CA there). Mounted over the tree's own files,
# so they are never part of a layer.
NETWORK_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/ssl/certs/ca-certificates.crt")


def bwrap_command(
    tree: Path, argv: list[str], *, writable: bool, env: dict[str, str], chdir: str = "/", share_net: bool = False,
    binds: list[tuple[str, str, bool]] = (),
) -> list[str]:
    """binds: (host path, path inside, writable) mounted over the tree, in order."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise StoreError(
            "bubblewrap (bwrap) is needed to run steps inside the image tree",
            fix="install it: apt-get install bubblewrap",
        )
    # --new-session: what runs inside can't push keystrokes into the user's terminal (TIOCSTI); its own hostname,
    # so nothing built there records the machine's
    cmd = [bwrap, "--bind" if writable else "--ro-bind", str(tree), "/", "--proc", "/proc", "--dev", "/dev",
           "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "cognix", "--new-session",
           "--die-with-parent", "--clearenv", "--chdir", chdir]
    if not writable:
        cmd += ["--tmpfs", "/tmp"]
    if not share_net:
        cmd += ["--unshare-net"]
    else:
        cmd += [arg for f in NETWORK_FILES if os.path.exists(f) for arg in ("--ro-bind", f, f)]
    for host, inside, rw in binds:
        cmd += ["--bind" if rw else "--ro-bind", host, inside]
    for name in sorted(env):  # after --clearenv, which bwrap applies where it appears
        cmd += ["--setenv", name, env[name]]
    return cmd + argv


def run_in_tree(
    tree: Path,
    argv: list[str],
    *,
    env: dict[str, str],
    writable: bool = False,
    chdir: str = "/",
    share_net: bool = False,
    timeout: float | None = None,
    binds: list[tuple[str, str, bool]] = (),
) -> subprocess.CompletedProcess[bytes]:
    """Run argv in the tree under bubblewrap; no time limit unless asked (build.run steps may be long)."""
    # bwrap mounts over these; a read-only root can't create them (a file is mounted over a file)
    for mount_point in ("proc", "dev", "tmp"):
        (tree / mount_point).mkdir(parents=True, exist_ok=True)
    for f in NETWORK_FILES if share_net else ():
        if os.path.exists(f) and not (tree / f.lstrip("/")).exists():
            (tree / f.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
            (tree / f.lstrip("/")).touch()
    for host, inside, _rw in binds:
        point = tree / inside.lstrip("/")
        if os.path.isdir(host):
            point.mkdir(parents=True, exist_ok=True)
        elif not point.exists():
            point.parent.mkdir(parents=True, exist_ok=True)
            point.touch()
    cmd = bwrap_command(tree, argv, writable=writable, env=env, chdir=chdir, share_net=share_net, binds=list(binds))
    try:
        # no stdin, and the same umask on every machine (modes of what it writes end up in wheels and layers)
        return subprocess.run(cmd, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL,
                              umask=0o022)
    except subprocess.TimeoutExpired:
        raise StoreError(f"`{' '.join(argv)}` inside the image tree ran longer than {timeout:g} s") from None
    except OSError as err:
        raise StoreError(f"cannot start bubblewrap: {err}",
                         fix="install bubblewrap (Debian package bubblewrap; scripts/setup installs it)") from None
