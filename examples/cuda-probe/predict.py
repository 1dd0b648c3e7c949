"""cuda-probe: is the GPU reachable from this image through the driver alone?

No CUDA wheels: the driver API (libcuda.so.1, mounted by the NVIDIA container runtime) through ctypes. predict()
names each device and round-trips `megabytes` of data through the first device's memory, checking every byte."""

import ctypes
import os
import time

from cog import BaseModel, BasePredictor, Input


class Output(BaseModel):
    driver_version: int
    device_count: int
    device_names: list[str]
    total_memory_gib: float
    libcuda: str
    bytes_checked: int
    host_to_device_gbps: float
    roundtrip_ok: bool


def _mapped_path(name: str) -> str:
    """Which file the process mapped for `name` (where the dynamic loader found it)."""
    with open("/proc/self/maps", encoding="utf-8") as fh:
        for line in fh:
            if name in line:
                return line.split()[-1]
    return ""


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.cuda = ctypes.CDLL("libcuda.so.1")
        self._check("cuInit", self.cuda.cuInit(0))
        self.context = ctypes.c_void_p()
        device = ctypes.c_int()
        self._check("cuDeviceGet", self.cuda.cuDeviceGet(ctypes.byref(device), 0))
        self._check("cuCtxCreate", self.cuda.cuCtxCreate_v2(ctypes.byref(self.context), 0, device))

    def _check(self, call: str, result: int) -> None:
        if result != 0:
            raise RuntimeError(f"{call} failed with CUDA error {result}")

    def _devices(self) -> tuple[list[str], float]:
        count = ctypes.c_int()
        self._check("cuDeviceGetCount", self.cuda.cuDeviceGetCount(ctypes.byref(count)))
        names, total = [], 0
        for index in range(count.value):
            device = ctypes.c_int()
            self._check("cuDeviceGet", self.cuda.cuDeviceGet(ctypes.byref(device), index))
            name = ctypes.create_string_buffer(256)
            self._check("cuDeviceGetName", self.cuda.cuDeviceGetName(name, 256, device))
            names.append(name.value.decode())
            memory = ctypes.c_size_t()
            self._check("cuDeviceTotalMem", self.cuda.cuDeviceTotalMem_v2(ctypes.byref(memory), device))
            total += memory.value
        return names, total / 2**30

    def predict(self, megabytes: int = Input(description="Data to round-trip", default=256, ge=1, le=8192)) -> Output:
        version = ctypes.c_int()
        self._check("cuDriverGetVersion", self.cuda.cuDriverGetVersion(ctypes.byref(version)))
        names, total = self._devices()
        size = megabytes * 2**20
        pattern = os.urandom(4096) * (size // 4096)
        source = ctypes.create_string_buffer(pattern, size)
        target = ctypes.create_string_buffer(size)
        buffer = ctypes.c_uint64()
        self._check("cuMemAlloc", self.cuda.cuMemAlloc_v2(ctypes.byref(buffer), ctypes.c_size_t(size)))
        try:
            started = time.perf_counter()
            self._check("cuMemcpyHtoD", self.cuda.cuMemcpyHtoD_v2(buffer, source, ctypes.c_size_t(size)))
            upload = time.perf_counter() - started
            self._check("cuMemcpyDtoH", self.cuda.cuMemcpyDtoH_v2(target, buffer, ctypes.c_size_t(size)))
        finally:
            self.cuda.cuMemFree_v2(buffer)
        return Output(
            driver_version=version.value,
            device_count=len(names),
            device_names=names,
            total_memory_gib=round(total, 1),
            libcuda=_mapped_path("libcuda.so"),
            bytes_checked=size,
            host_to_device_gbps=round(size / upload / 1e9, 2),
            roundtrip_ok=target.raw == source.raw,
        )
