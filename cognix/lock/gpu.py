"""Keep torch and CUDA coherent for `build.gpu: true`: the CUDA version comes from the locked torch, whose CUDA must
have build.cuda's major (another minor is accepted with a warning). Which torch is locked: cognix.lock.torch."""

from __future__ import annotations

import re

from cognix.errors import LockError
from cognix.lock.model import Wheel

_LOCAL_CUDA = re.compile(r"\+cu(\d+)$")  # torch 2.1.0+cu121
_CUDA_RUNTIME = re.compile(r"^nvidia-cuda-runtime(-cu\d+)?$")
_CUDNN = re.compile(r"^nvidia-cudnn(-cu\d+)?$")


def cuda_of_torch(wheels: list[Wheel]) -> str | None:
    """The CUDA major.minor the locked torch was built for, or None when no torch (or a CPU-only one) is locked."""
    by_name = {w.name: w for w in wheels}
    torch = by_name.get("torch")
    if torch is None:
        return None
    match = _LOCAL_CUDA.search(torch.version)
    if match:
        digits = match.group(1)  # "121" -> 12.1, "118" -> 11.8
        return f"{digits[:-1]}.{digits[-1]}"
    if "+" in torch.version:  # +cpu, +rocm6.0, ...
        return None
    # A plain version (the default index's Linux torch) pulls CUDA from the nvidia-* wheels.
    for wheel in wheels:
        if _CUDA_RUNTIME.match(wheel.name):
            return ".".join(wheel.version.split(".")[:2])
    return None


def cudnn_of(wheels: list[Wheel]) -> str | None:
    """The cuDNN major version from the locked nvidia-cudnn wheel (as cog.yaml writes it, e.g. "9")."""
    for wheel in wheels:
        if _CUDNN.match(wheel.name):
            return wheel.version.split(".")[0]
    return None


def _same_cuda(wanted: str, built: str) -> bool:
    """cog.yaml may write "12", "12.1" or "12.1.1": compare as many parts as both have (at most major.minor)."""
    want = wanted.split(".")[:2]
    return built.split(".")[: len(want)] == want


def gpu_versions(wheels: list[Wheel], *, gpu: bool, cuda: str | None, cudnn: str | None,
                 warnings: list[str] | None = None, torch_index: bool = True,
                 context: str = "") -> tuple[str | None, str | None]:
    """(cuda, cudnn) to record in the Target.

    A torch built for another minor of build.cuda's major is accepted, with a warning appended to `warnings`; another
    major is a LockError naming the torch versions that fit (those of the PyTorch index too unless `torch_index` is
    false). `context` is appended to both (e.g. why torch came from the package index).
    """
    from cognix.lock.torch_index import TORCH_INDEX_ENV
    from cognix.lock.torch_table import cuda_tag, fits_text, fitting_versions

    if not gpu:
        return None, None
    built = cuda_of_torch(wheels)
    torch = next((w for w in wheels if w.name == "torch"), None)
    if torch is not None and built is None:
        raise LockError(
            f"build.gpu is true but the locked torch {torch.version} has no CUDA support",
            fix="require a CUDA build of torch (e.g. add the CUDA index with --extra-index-url), "
                "or set build.gpu: false")
    if cuda and built and torch is not None and not _same_cuda(cuda, built):
        if cuda.split(".")[0] == built.split(".")[0]:
            if warnings is not None:
                warnings.append(f"build.cuda is {cuda} but the locked torch {torch.version} was built for CUDA "
                                f"{built}: same major version, accepted{context}")
        else:
            tag = cuda_tag(cuda)
            fitting = fitting_versions(cuda, torch_index=torch_index)
            pin = f"pin a torch built for CUDA {cuda.split('.')[0]}.x (e.g. torch=={fitting[0]}), " if fitting else ""
            reach = (f"the {tag} builds of the PyTorch index are used when it is reachable (--torch-index URL or "
                     f"${TORCH_INDEX_ENV} names a mirror)")
            raise LockError(
                f"build.cuda is {cuda} but the locked torch {torch.version} was built for CUDA {built}{context}; "
                f"{fits_text(cuda, torch_index=torch_index)}",
                fix=f"{pin}set build.cuda: \"{built}\" (or remove build.cuda to take it from torch); {reach}")
    return (built or cuda), (cudnn_of(wheels) or cudnn)
