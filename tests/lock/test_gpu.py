"""torch/CUDA coherence for build.gpu, on fixture locks (no downloads)."""

from __future__ import annotations

import pytest

from cognix.errors import LockError
from cognix.lock.gpu import cuda_of_torch, cudnn_of, gpu_versions
from cognix.lock.model import Wheel


def wheel(name: str, version: str) -> Wheel:
    return Wheel(name=name, version=version, filename=f"{name.replace('-', '_')}-{version}-py3-none-any.whl",
                 url=f"https://index.invalid/{name}", sha256="0" * 64, size=1)


CU121 = [wheel("torch", "2.1.0+cu121"), wheel("numpy", "1.26.4")]
PLAIN = [wheel("torch", "2.5.1"), wheel("nvidia-cuda-runtime-cu12", "12.4.127"), wheel("nvidia-cudnn-cu12", "9.1.0.70")]
CPU = [wheel("torch", "2.5.1+cpu")]


def test_cuda_from_local_version():
    assert cuda_of_torch(CU121) == "12.1"
    assert cuda_of_torch([wheel("torch", "2.0.1+cu118")]) == "11.8"


def test_cuda_from_nvidia_runtime_wheel():
    assert cuda_of_torch(PLAIN) == "12.4"
    assert cudnn_of(PLAIN) == "9"


def test_cpu_torch_and_no_torch():
    assert cuda_of_torch(CPU) is None
    assert cuda_of_torch([wheel("numpy", "2.0.0")]) is None


def test_gpu_false_records_nothing():
    assert gpu_versions(CU121, gpu=False, cuda=None, cudnn=None) == (None, None)


def test_cuda_unset_is_derived():
    assert gpu_versions(CU121, gpu=True, cuda=None, cudnn=None) == ("12.1", None)
    assert gpu_versions(PLAIN, gpu=True, cuda=None, cudnn=None) == ("12.4", "9")


@pytest.mark.parametrize("cuda", ["12.1", "12", "12.1.1"])
def test_cuda_set_and_matching(cuda):
    assert gpu_versions(CU121, gpu=True, cuda=cuda, cudnn="8") == ("12.1", "8")


def test_cuda_set_and_torch_built_for_another():
    with pytest.raises(LockError) as info:
        gpu_versions(CU121, gpu=True, cuda="11.8", cudnn=None)
    msg = info.value.message
    assert "build.cuda is 11.8" in msg and "CUDA 12.1" in msg and "2.1.0+cu121" in msg
    assert "cu118" in msg  # how to fix: the matching torch build


def test_gpu_with_cpu_only_torch():
    with pytest.raises(LockError, match="no CUDA support"):
        gpu_versions(CPU, gpu=True, cuda=None, cudnn=None)


def test_gpu_without_torch_keeps_configured_cuda():
    assert gpu_versions([wheel("numpy", "2.0.0")], gpu=True, cuda="12.4", cudnn="9") == ("12.4", "9")
