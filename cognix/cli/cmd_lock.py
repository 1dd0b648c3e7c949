"""`cognix lock`: resolve and pin every input of the model's image in lock.json."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cognix.errors import LockError
from cognix.lock.model import Lock
from cognix.progress import human_size


def summary(lock: Lock) -> str:
    """One line per kind of input, plus the target; what `cognix lock` prints."""
    t = lock.target
    wheel_bytes = sum(w.size for w in lock.wheels)
    deb_bytes = sum(d.size for d in lock.debs)
    weight_files = [f for ws in lock.weights for f in ws.files]
    weight_bytes = sum(f.size for f in weight_files)
    if lock.python is not None:
        target = (f"CPython {lock.python.version} ({t.abi}) from python-build-standalone {lock.python.release}, "
                  f"linux {t.arch}, glibc {t.glibc}")
    else:
        target = f"CPython {t.python_version} ({t.abi}), linux {t.arch}, glibc {t.glibc}"
    if t.debian_suite:
        target += f", Debian {t.debian_suite}" + (" base" if lock.python is not None else "")
    if t.gpu:
        target += f", CUDA {t.cuda or 'unset'}" + (f", cuDNN {t.cudnn}" if t.cudnn else "")
    lines = [
        f"target: {target}",
        f"wheels: {len(lock.wheels)} ({human_size(wheel_bytes)})",
        f"debs: {len(lock.debs)} ({human_size(deb_bytes)})",
    ]
    if lock.weights:
        lines.append(f"weights: {len(weight_files)} files ({human_size(weight_bytes)})")
    python_bytes = lock.python.size if lock.python is not None else 0
    if lock.python is not None:
        lines.append(f"interpreter: {lock.python.filename} ({human_size(python_bytes)})")
    lines.append(f"total download: {human_size(wheel_bytes + deb_bytes + weight_bytes + python_bytes)}")
    return "\n".join(lines)


def register(cli: click.Group) -> None:
    @cli.command("lock")
    @click.argument("model_dir", default=".", type=click.Path(file_okay=False, path_type=Path))
    @click.option("--index-url", metavar="URL", help="Python package index to resolve against.")
    @click.option("--mirror", metavar="URL", help="Debian mirror to resolve system packages against.")
    @click.option("--python-source", type=click.Choice(["auto", "debian", "standalone"]),
                  help="Where the interpreter comes from: auto (Debian where a suite ships that Python, else "
                       "python-build-standalone), debian, or standalone. Kept in lock.json for later locks.")
    @click.option("--python-mirror", metavar="URL",
                  help="Mirror of python-build-standalone's release downloads (default: uv's, or "
                       "$UV_PYTHON_INSTALL_MIRROR).")
    @click.option("--torch-index", metavar="URL",
                  help="PyTorch index base that CUDA (URL/cu118) and CPU (URL/cpu) torch builds come from, as Cog "
                       "takes them (default: Cog's, or $COGNIX_TORCH_INDEX_URL). When it is unreachable, torch comes "
                       "from the package index, with a warning.")
    @click.option("--check", is_flag=True, help="Only check that lock.json is present and fresh (exit 1 if not).")
    def lock_cmd(model_dir: Path, index_url: str | None, mirror: str | None, python_source: str | None,
                 python_mirror: str | None, torch_index: str | None, check: bool) -> None:
        """Resolve the model's Python packages, Debian packages and weights, and write lock.json."""
        from cognix.config import load_config
        from cognix.lock.lockfile import load_lock, lock_model, write_lock
        from cognix.progress import terminal_progress

        if not model_dir.is_dir():
            raise LockError(f"{model_dir} is not a directory")
        config = load_config(model_dir)
        for note in config.notices:  # cog.yaml keys accepted but ignored, one located line each
            click.echo(f"note: {note}", err=True)
        if check:
            lock = load_lock(model_dir, config)
            click.echo(f"{model_dir / 'lock.json'} is up to date ({len(lock.wheels)} wheels, {len(lock.debs)} debs)")
            return
        warnings: list[str] = []
        lock = lock_model(model_dir, index_url=index_url, mirror=mirror, python_source=python_source,
                          python_mirror=python_mirror, progress=terminal_progress(sys.stderr),
                          torch_index=torch_index, warnings=warnings)
        for warning in warnings:
            click.echo(f"warning: {warning}", err=True)
        path = write_lock(model_dir, lock)
        click.echo(f"wrote {path}")
        click.echo(summary(lock))
