"""torch releases and the CUDA builds they have: Cog's compatibility facts, as data, and choosing from them.

Facts only: which torchvision/torchaudio go with each torch, which CUDA builds the PyTorch index has, and which
CUDA the package index's Linux build carries (its nvidia-* wheels). cognix.lock.torch makes the choices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from packaging.version import Version

from cognix.errors import LockError


@dataclass(frozen=True)
class Release:
    """One torch release: its companions and where CUDA builds of it exist."""

    torch: str
    torchvision: str | None
    torchaudio: str | None
    cuda: tuple[str, ...]  # CUDA builds on the PyTorch index (<base>/cuXYZ); the CPU index has a +cpu build of each
    package_index_cuda: str | None  # CUDA runtime (nvidia-* wheels) of the package index's Linux build


_R = Release
# Facts, newest last. The package index's builds of 1.11/1.12 bundle CUDA 10.2 (no nvidia-* wheels). Releases with
# no PyTorch-index CUDA builds listed are known here only by their package-index build; an index page read at lock
# time always has the last word on which builds exist.
RELEASES: tuple[Release, ...] = (
    _R("1.11.0", "0.12.0", "0.11.0", ("10.2", "11.3"), None),
    _R("1.12.0", "0.13.0", "0.12.0", ("10.2", "11.3", "11.6"), None),
    _R("1.12.1", "0.13.1", "0.12.1", ("10.2", "11.3", "11.6"), None),
    _R("1.13.0", "0.14.0", "0.13.0", ("11.6", "11.7"), "11.7"),
    _R("1.13.1", "0.14.1", "0.13.1", ("11.6", "11.7"), "11.7"),
    _R("2.0.0", "0.15.1", "2.0.1", ("11.8",), "11.7"),
    _R("2.0.1", "0.15.2", "2.0.2", ("11.8",), "11.7"),
    _R("2.1.0", "0.16.0", "2.1.0", ("11.8", "12.1"), "12.1"),
    _R("2.1.1", "0.16.1", "2.1.1", ("11.8", "12.1"), "12.1"),
    _R("2.1.2", "0.16.2", "2.1.2", ("11.8", "12.1"), "12.1"),
    _R("2.2.0", "0.17.0", "2.2.0", ("11.8", "12.1"), "12.1"),
    _R("2.2.1", "0.17.1", "2.2.1", ("11.8", "12.1"), "12.1"),
    _R("2.2.2", "0.17.2", "2.2.2", ("11.8", "12.1"), "12.1"),
    _R("2.3.0", "0.18.0", "2.3.0", ("11.8", "12.1"), "12.1"),
    _R("2.3.1", "0.18.1", "2.3.1", ("11.8", "12.1"), "12.1"),
    _R("2.4.0", "0.19.0", "2.4.0", ("11.8", "12.1", "12.4"), "12.1"),
    _R("2.4.1", "0.19.1", "2.4.1", ("11.8", "12.1", "12.4"), "12.1"),
    _R("2.5.0", "0.20.0", "2.5.0", ("11.8", "12.1", "12.4"), "12.4"),
    _R("2.5.1", "0.20.1", "2.5.1", ("11.8", "12.1", "12.4"), "12.4"),
    _R("2.6.0", "0.21.0", "2.6.0", ("11.8", "12.4", "12.6"), "12.4"),
    _R("2.7.0", "0.22.0", "2.7.0", ("11.8", "12.6", "12.8"), "12.6"),
    _R("2.7.1", "0.22.1", "2.7.1", ("11.8", "12.6", "12.8"), "12.6"),
    _R("2.8.0", "0.23.0", "2.8.0", ("12.6", "12.8", "12.9"), "12.8"),
    _R("2.9.0", "0.24.0", "2.9.0", ("12.6", "12.8", "13.0"), "12.8"),
    _R("2.9.1", "0.24.1", "2.9.1", ("12.6", "12.8", "13.0"), "12.8"),
    _R("2.10.0", "0.25.0", "2.10.0", ("12.6", "12.8", "13.0"), "12.8"),
    _R("2.11.0", "0.26.0", "2.11.0", ("12.6", "12.8", "13.0"), "13.0"),
    _R("2.12.0", None, None, (), "13.0"),
    _R("2.12.1", "0.27.1", "2.11.0", ("12.6", "12.9", "13.0", "13.2"), "13.0"),
    _R("2.13.0", None, None, (), "13.0"),
    _R("2.14.0", None, None, (), "13.0"),
    _R("2.14.1", None, None, (), "13.0"),
    _R("2.15.0", None, None, (), "13.2"),
)


def release_of(version: Version) -> Release | None:
    """The table's release of a torch version (`2.5` is 2.5.0), or None."""
    return next((r for r in RELEASES if Version(r.torch) == Version(version.public)), None)


# ---- CUDA versions and index tags ---------------------------------------------------------------------------------

def cuda_parts(cuda: str) -> tuple[int, int | None]:
    """"12.1.1" -> (12, 1); "12" -> (12, None)."""
    parts = cuda.strip().split(".")
    try:
        return int(parts[0]), (int(parts[1]) if len(parts) > 1 and parts[1] else None)
    except ValueError:
        raise LockError(f"not a CUDA version: {cuda!r}", fix='write build.cuda as major.minor, e.g. "12.1"') from None


def cuda_tag(cuda: str) -> str:
    """The PyTorch index's name for a CUDA version: "11.8" -> "cu118", "12.1.1" -> "cu121"."""
    major, minor = cuda_parts(cuda)
    return f"cu{major}{minor if minor is not None else 0}"


def cuda_of_tag(tag: str) -> str | None:
    """"cu118" -> "11.8"; None for cpu, rocm and anything else."""
    digits = tag[2:] if tag.startswith("cu") else ""
    if len(digits) < 2 or not digits.isdigit():
        return None
    return f"{int(digits[:-1])}.{digits[-1]}"


def same_major(a: str, b: str) -> bool:
    return cuda_parts(a)[0] == cuda_parts(b)[0]


def _not_above(built: str, wanted: str) -> bool:
    """Same major and a minor no higher than wanted's (a wanted major alone takes any minor)."""
    (bmaj, bmin), (wmaj, wmin) = cuda_parts(built), cuda_parts(wanted)
    return bmaj == wmaj and (wmin is None or (bmin or 0) <= wmin)


# ---- choosing a build from the table ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Build:
    torch: str  # public version
    cuda: str
    tag: str | None  # "cu118" on the PyTorch index; None: the package index's build


def builds(*, torch_index: bool = True, package_index: bool = True) -> list[Build]:
    out = []
    for r in RELEASES:
        if torch_index:
            out += [Build(r.torch, c, cuda_tag(c)) for c in r.cuda]
        if package_index and r.package_index_cuda:
            out.append(Build(r.torch, r.package_index_cuda, None))
    return out


def _build_key(b: Build) -> tuple:
    return Version(b.torch), cuda_parts(b.cuda), b.tag is not None


def best_build(cuda: str, accept: Callable[[str], bool] = lambda _v: True, *, torch_index: bool = True,
               package_index: bool = True) -> Build | None:
    """Cog's rule, by build.cuda's major: among accepted releases, the newest torch with a build not above `cuda`
    (ties: the newest such CUDA, then the PyTorch index's build); else the newest torch with a build of a newer minor
    of that major (the nearest one)."""
    pool = [b for b in builds(torch_index=torch_index, package_index=package_index)
            if same_major(b.cuda, cuda) and accept(b.torch)]
    fitting = [b for b in pool if _not_above(b.cuda, cuda)]
    if fitting:
        return max(fitting, key=_build_key)
    # Only newer minors of that major: the nearest one.
    return max(pool, key=lambda b: (Version(b.torch), tuple(-p for p in cuda_parts(b.cuda) if p is not None),
                                    b.tag is not None)) if pool else None


def fitting_versions(cuda: str, *, torch_index: bool = True) -> list[str]:
    """torch releases with a build for `cuda` (same major, minor not above; else any of that major), newest first."""
    pool = [b for b in builds(torch_index=torch_index) if same_major(b.cuda, cuda)]
    fitting = [b for b in pool if _not_above(b.cuda, cuda)] or pool
    return sorted({b.torch for b in fitting}, key=Version, reverse=True)


def fits_text(cuda: str, *, torch_index: bool = True, limit: int = 12) -> str:
    """One clause naming the torch versions that fit `cuda`, for error messages."""
    major = cuda_parts(cuda)[0]
    versions = fitting_versions(cuda, torch_index=torch_index)
    where = "" if torch_index else " on the package index"
    if not versions:
        return f"cognix knows no torch release with a CUDA {major}.x build{where}"
    shown = ", ".join(versions[:limit]) + (f", ... ({len(versions)} in all)" if len(versions) > limit else "")
    return f"torch versions with a build for CUDA {major}.x that fits {cuda}{where}: {shown}"


