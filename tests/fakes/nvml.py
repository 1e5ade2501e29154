"""A stand-in for the ``pynvml`` module (nvidia-ml-py) with real counter behaviour.

Function names, signatures and error classes mirror pynvml, so the code under
test cannot tell the difference; tests/devices/test_nvidia.py checks the names
against the installed pynvml. Energy is a monotonically increasing millijoule
counter, power is in milliwatts, and calls fail the way NVML does: device
queries before nvmlInit raise Uninitialized, pre-Volta boards raise
NotSupported for the energy counter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any


class NVMLError(Exception):
    """Mirrors pynvml.NVMLError: carries the NVML return code in ``value``."""

    value = 999
    text = "Unknown Error"

    def __init__(self, value: int | None = None) -> None:
        super().__init__()
        if value is not None:
            self.value = value

    def __str__(self) -> str:
        return self.text


def _error(name: str, value: int, text: str) -> type[NVMLError]:
    return type(name, (NVMLError,), {"value": value, "text": text})


NVMLError_Uninitialized = _error("NVMLError_Uninitialized", 1, "Uninitialized")
NVMLError_InvalidArgument = _error("NVMLError_InvalidArgument", 2, "Invalid Argument")
NVMLError_NotSupported = _error("NVMLError_NotSupported", 3, "Not Supported")
NVMLError_NotFound = _error("NVMLError_NotFound", 6, "Not Found")
NVMLError_DriverNotLoaded = _error("NVMLError_DriverNotLoaded", 9, "Driver Not Loaded")
NVMLError_LibraryNotFound = _error("NVMLError_LibraryNotFound", 12, "NVML Shared Library Not Found")
NVMLError_GpuIsLost = _error("NVMLError_GpuIsLost", 15, "GPU is lost")
NVMLError_Unknown = _error("NVMLError_Unknown", 999, "Unknown Error")


@dataclass
class FakeGPU:
    """One board. ``compute``/``graphics`` map pid -> used memory in bytes (None: unknown)."""

    name: str = "NVIDIA A100-SXM4-80GB"
    uuid: str = "GPU-00000000-0000-0000-0000-000000000000"
    energy_mj: int = 1_000_000
    power_mw: int = 60_000
    has_counter: bool = True
    memory_total: int = 80 * 2**30
    power_limit_mw: int | None = 400_000
    compute: dict[int, int | None] = field(default_factory=dict)
    graphics: dict[int, int | None] = field(default_factory=dict)
    #: (pid, timeStamp µs, smUtil %) samples; None means the query is not supported
    util_samples: list[tuple[int, int, int]] | None = field(default_factory=list)
    mig_uuids: list[str] = field(default_factory=list)
    fail_calls: int = 0
    fail_error: type[NVMLError] = NVMLError_Unknown


@dataclass(frozen=True)
class _MigHandle:
    parent: FakeGPU
    uuid: str


class FakeNVML:
    """Module-like object: pass it as ``nvml=`` to discover_nvidia / gpu_inventory."""

    NVMLError = NVMLError
    NVMLError_Uninitialized = NVMLError_Uninitialized
    NVMLError_InvalidArgument = NVMLError_InvalidArgument
    NVMLError_NotSupported = NVMLError_NotSupported
    NVMLError_NotFound = NVMLError_NotFound
    NVMLError_DriverNotLoaded = NVMLError_DriverNotLoaded
    NVMLError_LibraryNotFound = NVMLError_LibraryNotFound
    NVMLError_GpuIsLost = NVMLError_GpuIsLost
    NVMLError_Unknown = NVMLError_Unknown

    def __init__(
        self,
        gpus: list[FakeGPU] | None = None,
        *,
        init_error: type[NVMLError] | None = None,
        bytes_strings: bool = False,
        driver: str = "550.54.15",
        cuda: int = 12040,
    ) -> None:
        self.gpus = list(gpus or [])
        self.init_error = init_error
        self.bytes_strings = bytes_strings
        self.driver, self.cuda = driver, cuda
        self.init_calls = self.shutdown_calls = 0
        self._refcount = 0

    # -- test controls -------------------------------------------------------------
    def run(self, index: int, seconds: float, watts: float | None = None) -> None:
        """Let a GPU draw `watts` (default: its current power) for `seconds`."""
        gpu = self.gpus[index]
        if watts is not None:
            gpu.power_mw = round(watts * 1000)
        gpu.energy_mj += round(gpu.power_mw * seconds)

    def fail_next(self, index: int, calls: int, error: type[NVMLError] = NVMLError_Unknown):
        """The next `calls` energy/power queries on this GPU raise `error`."""
        self.gpus[index].fail_calls, self.gpus[index].fail_error = calls, error

    # -- helpers -------------------------------------------------------------------
    def _str(self, value: str) -> str | bytes:
        return value.encode() if self.bytes_strings else value

    def _ready(self) -> None:
        if self._refcount <= 0:
            raise NVMLError_Uninitialized()

    def _gpu(self, handle: Any) -> FakeGPU:
        self._ready()
        if not isinstance(handle, FakeGPU):
            raise NVMLError_InvalidArgument()
        return handle

    def _measure(self, handle: Any) -> FakeGPU:
        gpu = self._gpu(handle)
        if gpu.fail_calls > 0:
            gpu.fail_calls -= 1
            raise gpu.fail_error()
        return gpu

    # -- pynvml API ----------------------------------------------------------------
    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise self.init_error()
        self.init_calls += 1
        self._refcount += 1

    def nvmlShutdown(self) -> None:
        self._ready()
        self.shutdown_calls += 1
        self._refcount -= 1

    def nvmlSystemGetDriverVersion(self) -> str | bytes:
        self._ready()
        return self._str(self.driver)

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        self._ready()
        return self.cuda

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        return self.nvmlSystemGetCudaDriverVersion()

    def nvmlDeviceGetCount(self) -> int:
        self._ready()
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGPU:
        self._ready()
        if not 0 <= index < len(self.gpus):
            raise NVMLError_InvalidArgument()
        return self.gpus[index]

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> FakeGPU | _MigHandle:
        self._ready()
        for gpu in self.gpus:
            if gpu.uuid == uuid:
                return gpu
            if uuid in gpu.mig_uuids:
                return _MigHandle(gpu, uuid)
        raise NVMLError_NotFound()

    def nvmlDeviceGetDeviceHandleFromMigDeviceHandle(self, migDevice: Any) -> FakeGPU:
        self._ready()
        if not isinstance(migDevice, _MigHandle):
            raise NVMLError_InvalidArgument()
        return migDevice.parent

    def nvmlDeviceGetIndex(self, handle: Any) -> int:
        return self.gpus.index(self._gpu(handle))

    def nvmlDeviceGetName(self, handle: Any) -> str | bytes:
        return self._str(self._gpu(handle).name)

    def nvmlDeviceGetUUID(self, handle: Any) -> str | bytes:
        if isinstance(handle, _MigHandle):
            return self._str(handle.uuid)
        return self._str(self._gpu(handle).uuid)

    def nvmlDeviceGetMemoryInfo(self, handle: Any, version: int | None = None) -> Any:
        total = self._gpu(handle).memory_total
        return SimpleNamespace(total=total, free=total, used=0)

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: Any) -> int:
        limit = self._gpu(handle).power_limit_mw
        if limit is None:
            raise NVMLError_NotSupported()
        return limit

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: Any) -> int:
        gpu = self._measure(handle)
        if not gpu.has_counter:
            raise NVMLError_NotSupported()
        return gpu.energy_mj

    def nvmlDeviceGetPowerUsage(self, handle: Any) -> int:
        return self._measure(handle).power_mw

    def nvmlDeviceGetProcessUtilization(self, handle: Any, timeStamp: int) -> list[Any]:
        samples = self._gpu(handle).util_samples
        if samples is None:
            raise NVMLError_NotSupported()
        fresh = [s for s in samples if s[1] > timeStamp]
        if not fresh:
            raise NVMLError_NotFound()
        return [
            SimpleNamespace(pid=p, timeStamp=t, smUtil=u, memUtil=0, encUtil=0, decUtil=0)
            for p, t, u in fresh
        ]

    def _procs(self, table: dict[int, int | None]) -> list[Any]:
        return [
            SimpleNamespace(pid=p, usedGpuMemory=m, gpuInstanceId=0xFFFFFFFF, computeInstanceId=0)
            for p, m in table.items()
        ]

    def nvmlDeviceGetComputeRunningProcesses(self, handle: Any) -> list[Any]:
        return self._procs(self._gpu(handle).compute)

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle: Any) -> list[Any]:
        return self._procs(self._gpu(handle).graphics)
