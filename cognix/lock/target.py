"""The Target a model is locked for: CPython X.Y on linux x86_64 with the image's glibc."""

from __future__ import annotations

from packaging import tags

from cognix.errors import LockError
from cognix.lock.debian.suites import STANDALONE_BASE, SUITES, suite_for_python
from cognix.lock.model import PythonSource, Target

# manylinux glibc levels that have a legacy alias (PEP 600 / packaging's _LEGACY_MANYLINUX_MAP).
_LEGACY = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}


def platform_tags(glibc: str, arch: str = "x86_64") -> list[str]:
    """Platform tags a wheel may carry to run on this glibc, most specific first (as packaging orders them)."""
    major, minor = _glibc_tuple(glibc)
    out: list[str] = []
    for m in range(minor, 4, -1):  # x86_64 manylinux goes back to glibc 2.5
        out.append(f"manylinux_{major}_{m}_{arch}")
        if (major, m) in _LEGACY:
            out.append(f"{_LEGACY[(major, m)]}_{arch}")
    out.append(f"linux_{arch}")
    return out


def _glibc_tuple(glibc: str) -> tuple[int, int]:
    try:
        major, minor = (int(p) for p in glibc.split(".")[:2])
    except ValueError as err:
        raise LockError(f"not a glibc version: {glibc!r}") from err
    return major, minor


def python_tuple(minor: str) -> tuple[int, int]:
    major, _, rest = minor.partition(".")
    return int(major), int(rest.split(".")[0])


def python_source_for(minor: str, requested: str = "auto") -> PythonSource:
    """Debian's interpreter where a suite ships this minor (unless standalone is asked for), else standalone."""
    if requested == "standalone":
        return "standalone"
    if requested == "debian" and minor not in SUITES:
        raise LockError(f"Python {minor} is not shipped by a Debian suite, and this lock asks for Debian's "
                        "interpreter (--python-source debian, kept in lock.json)",
                        where="cog.yaml: build.python_version",
                        fix="run `cognix lock --python-source auto` (python-build-standalone then serves it)")
    if minor in SUITES:
        return "debian"
    return "standalone"


def make_target(python_minor: str, *, python_source: PythonSource = "debian", gpu: bool = False,
                cuda: str | None = None, cudnn: str | None = None, glibc: str | None = None,
                debian_suite: str | None = None) -> Target:
    """A Target for CPython `python_minor` ("3.11"); the base suite and its glibc looked up when not given."""
    major, minor = python_tuple(python_minor)
    if glibc is None:
        info = suite_for_python(f"{major}.{minor}") if python_source == "debian" else STANDALONE_BASE
        debian_suite, glibc = info.suite, info.glibc
    return Target(
        python_version=f"{major}.{minor}",
        python_source=python_source,
        abi=f"cp{major}{minor}",
        platform_tags=platform_tags(glibc),
        glibc=glibc,
        debian_suite=debian_suite,
        gpu=gpu,
        cuda=cuda,
        cudnn=cudnn,
    )


def marker_environment(target: Target) -> dict[str, str]:
    """PEP 508 marker values of the image's interpreter (a patch version is not known from the lock: .0)."""
    return {"python_version": target.python_version, "python_full_version": f"{target.python_version}.0",
            "sys_platform": "linux", "platform_system": "Linux", "platform_machine": target.arch,
            "os_name": "posix", "implementation_name": "cpython", "platform_python_implementation": "CPython",
            "platform_release": "", "platform_version": "", "implementation_version": f"{target.python_version}.0"}


def supported_tags(target: Target) -> list[tags.Tag]:
    """Every wheel tag the target's interpreter accepts, best first (packaging's order)."""
    version = python_tuple(target.python_version)
    interpreter = f"cp{version[0]}{version[1]}"
    out = list(tags.cpython_tags(version, abis=[target.abi], platforms=target.platform_tags))
    out += list(tags.compatible_tags(version, interpreter=interpreter, platforms=target.platform_tags))
    return out


# glibc levels uv's --python-platform knows for x86_64 manylinux.
_UV_MANYLINUX = [17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40]


def uv_platform(target: Target) -> str:
    """uv's --python-platform value: the highest manylinux level uv knows that the target's glibc covers."""
    major, minor = _glibc_tuple(target.glibc)
    if major != 2 or minor < 17:
        raise LockError(f"glibc {target.glibc} is too old for manylinux wheels (need 2.17 or newer)")
    level = max(m for m in _UV_MANYLINUX if m <= minor)
    return f"{target.arch}-manylinux_2_{level}"
