"""Load a plan's image into the local Docker engine (podman when Docker is absent).

Only what the engine lacks is sent: Docker reports each image's layer chain (RootFS.Layers), and `docker load`
takes an archive that leaves out the files of leading layers whose chain it holds. After an edit to predict.py
only the model's own layer (and the config) travels, not gigabytes of dependencies. When the engine can't tell
(podman, an error) or refuses the partial archive, the whole archive is sent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from cognix.errors import ImageError
from cognix.image.archive import stream_docker_archive
from cognix.image.cache import LayerCache
from cognix.image.config import epoch
from cognix.image.layers import layer_infos
from cognix.image.plan import ImagePlan
from cognix.image.tarball import LayerInfo
from cognix.progress import Progress

INSPECT_TIMEOUT_S = 60


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


def held_chains(engine: str) -> set[tuple[str, ...]] | None:
    """Every layer chain the engine's images hold (each leading run of each image's diff_ids); None when it can't
    tell (podman's load wants every layer file; an engine that does not answer)."""
    if os.path.basename(engine) != "docker":
        return None
    try:
        ids = subprocess.run([engine, "image", "ls", "-aq", "--no-trunc"], capture_output=True, text=True,
                             timeout=INSPECT_TIMEOUT_S, check=True).stdout.split()
        if not ids:
            return set()
        out = subprocess.run([engine, "image", "inspect", "--format", "{{json .RootFS.Layers}}", *dict.fromkeys(ids)],
                             capture_output=True, text=True, timeout=INSPECT_TIMEOUT_S, check=True).stdout
        chains: set[tuple[str, ...]] = set()
        for line in out.splitlines():
            layers = json.loads(line) if line.strip() else None
            for end in range(1, len(layers or []) + 1):
                chains.add(tuple(layers[:end]))  # type: ignore[index]
        return chains
    except (OSError, subprocess.SubprocessError, ValueError, TypeError):
        return None


def leading_held(diff_ids: list[str], chains: set[tuple[str, ...]] | None) -> int:
    """How many leading layers of an image with these diff_ids the engine holds as a chain already."""
    if not chains:
        return 0
    count = 0
    while count < len(diff_ids) and tuple(diff_ids[: count + 1]) in chains:
        count += 1
    return count


@dataclass(frozen=True)
class Loaded:
    image_id: str
    layers: int
    layers_sent: int


def load(plan: ImagePlan, *, cache: LayerCache | None = None, progress: Progress | None = None) -> Loaded:
    """Load the image, sending only the layers the engine lacks; what was loaded and sent."""
    engine = container_engine()
    cache = cache or LayerCache()
    infos = layer_infos(plan.layers, epoch(plan.created), cache)  # once: the archive reuses them
    diff_ids = [info.diff_id for info in infos]
    held = leading_held(diff_ids, held_chains(engine))
    if held:
        code, image, message = _pipe(engine, plan, cache, progress, held, infos)
        if code == 0 and image:
            return Loaded(image, len(diff_ids), len(diff_ids) - held)
        # the engine dropped a layer since it was asked, or its image store wants every file: send them all
        print(f"cognix: the engine refused the archive without its {held} known layers ({message}); sending all",
              file=sys.stderr)
    code, image, message = _pipe(engine, plan, cache, progress, 0, infos)
    if code != 0 or not image:
        raise ImageError(
            f"`{os.path.basename(engine)} load` failed (exit {code}): {message or 'no message'}",
            fix="check that the Docker daemon is running and you may use it (docker info)",
        )
    return Loaded(image, len(diff_ids), len(diff_ids))


def _pipe(engine: str, plan: ImagePlan, cache: LayerCache, progress: Progress | None, omit: int,
          infos: list[LayerInfo]) -> tuple[int, str, str]:
    """Stream the archive into `ENGINE load`: its exit status, the image ID written, its stderr."""
    with tempfile.TemporaryFile() as stderr, tempfile.TemporaryFile() as stdout:
        try:
            proc = subprocess.Popen([engine, "load"], stdin=subprocess.PIPE, stdout=stdout, stderr=stderr)
        except OSError as err:
            raise ImageError(f"cannot run {engine}: {err}") from err
        assert proc.stdin is not None
        try:
            image = stream_docker_archive(plan, proc.stdin, cache=cache, progress=progress,  # type: ignore[arg-type]
                                          omit_leading=omit, infos=infos)
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
    return code, image, message
