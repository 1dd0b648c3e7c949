"""Load a plan's image into the local Docker engine (podman when Docker is absent)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from cognix.errors import ImageError
from cognix.image.archive import stream_docker_archive
from cognix.image.cache import LayerCache
from cognix.image.plan import ImagePlan
from cognix.progress import Progress


def container_engine() -> str:
    """Path of `docker`, else `podman`; ImageError when neither is installed."""
    for name in ("docker", "podman"):
        path = shutil.which(name)
        if path:
            return path
    raise ImageError(
        "neither docker nor podman is installed",
        fix="install Docker (or podman), or write the image with `./result > image.tar` / an OCI layout",
    )


def load(plan: ImagePlan, *, cache: LayerCache | None = None, progress: Progress | None = None) -> str:
    """Pipe the docker-archive into `docker load`; returns the image ID."""
    engine = container_engine()
    with tempfile.TemporaryFile() as stderr, tempfile.TemporaryFile() as stdout:
        try:
            proc = subprocess.Popen([engine, "load"], stdin=subprocess.PIPE, stdout=stdout, stderr=stderr)
        except OSError as err:
            raise ImageError(f"cannot run {engine}: {err}") from err
        assert proc.stdin is not None
        try:
            image = stream_docker_archive(plan, proc.stdin, cache=cache, progress=progress)  # type: ignore[arg-type]
            proc.stdin.close()
        except BrokenPipeError:
            image = ""  # the engine quit early; its stderr says why
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
        code = proc.wait()
        stderr.seek(0)
        message = stderr.read().decode(errors="replace").strip()
    if code != 0 or not image:
        raise ImageError(
            f"`{os.path.basename(engine)} load` failed (exit {code}): {message or 'no message'}",
            fix="check that the Docker daemon is running and you may use it (docker info)",
        )
    return image
