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
NVMLError_NoPermission = _error("NVMLError_NoPermission", 4, "Insufficient Permissions")
NVMLError_NotFound = _error("NVMLError_NotFound", 6, "Not Found")
NVMLError_DriverNotLoaded = _error("NVMLError_DriverNotLoaded", 9, "Driver Not Loaded")
NVMLError_LibraryNotFound = _error("NVMLError_LibraryNotFound", 12, "NVML Shared Library Not Found")
NVMLError_FunctionNotFound = _error("NVMLError_FunctionNotFound", 13, "Function Not Found")
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
    # power management: the limit above is the one in force; setters need `privileged`
    power_min_mw: int = 100_000
    power_max_mw: int = 400_000
    power_default_mw: int = 400_000
    limit_settable: bool = True
    persistence: int = 1
    compute_capability: tuple[int, int] = (8, 0)
    memory_clocks: list[int] = field(default_factory=lambda: [1593, 1215])
    graphics_clocks: list[int] = field(default_factory=lambda: [210, 705, 1005, 1410])
    locked_graphics: list[int] | None = None
    locked_memory: list[int] | None = None
    #: utilisation rates (%) and memory in use (bytes), as nvidia-smi would show them
    util_gpu: int = 0
    util_memory: int = 0
    memory_used: int = 0


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
    NVMLError_NoPermission = NVMLError_NoPermission
    NVMLError_FunctionNotFound = NVMLError_FunctionNotFound
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
        privileged: bool = True,
    ) -> None:
        self.gpus = list(gpus or [])
        self.init_error = init_error
        self.bytes_strings = bytes_strings
        self.driver, self.cuda = driver, cuda
        self.privileged = privileged
        self.set_calls: list[tuple[str, int, tuple]] = []
        self.init_calls = self.shutdown_calls = 0
        self._refcount = 0

    # -- test controls -------------------------------------------------------------
    def run(self, index: int, seconds: float, watts: float | None = None) -> None:
        """Let a GPU draw `watts` (default: its current power) for `seconds`, capped by the
        power limit in force, as the board's power management does."""
        gpu = self.gpus[index]
        if watts is not None:
            gpu.power_mw = round(watts * 1000)
        if gpu.power_limit_mw is not None:
            gpu.power_mw = min(gpu.power_mw, gpu.power_limit_mw)
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
        gpu = self._gpu(handle)
        total, used = gpu.memory_total, gpu.memory_used
        return SimpleNamespace(total=total, free=total - used, used=used)

    def nvmlDeviceGetUtilizationRates(self, handle: Any) -> Any:
        gpu = self._gpu(handle)
        return SimpleNamespace(gpu=gpu.util_gpu, memory=gpu.util_memory)

    def nvmlDeviceGetCudaComputeCapability(self, handle: Any) -> tuple[int, int]:
        return self._gpu(handle).compute_capability

    # -- power management (the setters need `privileged`, as NVML needs root) ----------
    def _settable(self, handle: Any, what: str, *args: int) -> FakeGPU:
        gpu = self._gpu(handle)
        if not self.privileged:
            raise NVMLError_NoPermission()
        self.set_calls.append((what, next(i for i, g in enumerate(self.gpus) if g is gpu), args))
        return gpu

    def nvmlDeviceGetPowerManagementLimit(self, handle: Any) -> int:
        limit = self._gpu(handle).power_limit_mw
        if limit is None:
            raise NVMLError_NotSupported()
        return limit

    def nvmlDeviceGetPowerManagementLimitConstraints(self, handle: Any) -> list[int]:
        gpu = self._gpu(handle)
        return [gpu.power_min_mw, gpu.power_max_mw]

    def nvmlDeviceGetPowerManagementDefaultLimit(self, handle: Any) -> int:
        return self._gpu(handle).power_default_mw

    def nvmlDeviceSetPowerManagementLimit(self, handle: Any, limit: int) -> None:
        gpu = self._gpu(handle)
        if not gpu.limit_settable or gpu.power_limit_mw is None:
            raise NVMLError_NotSupported()
        gpu = self._settable(handle, "power_limit", limit)
        if not gpu.power_min_mw <= limit <= gpu.power_max_mw:
            raise NVMLError_InvalidArgument()
        gpu.power_limit_mw = int(limit)

    def nvmlDeviceGetPersistenceMode(self, handle: Any) -> int:
        return self._gpu(handle).persistence

    def nvmlDeviceGetSupportedMemoryClocks(self, handle: Any) -> list[int]:
        return list(self._gpu(handle).memory_clocks)

    def nvmlDeviceGetSupportedGraphicsClocks(self, handle: Any, memoryClockMHz: int) -> list[int]:
        gpu = self._gpu(handle)
        if memoryClockMHz not in gpu.memory_clocks:
            raise NVMLError_InvalidArgument()
        return list(gpu.graphics_clocks)

    def nvmlDeviceGetClockInfo(self, handle: Any, type: int) -> int:
        gpu = self._gpu(handle)
        if type == 2:
            return (gpu.locked_memory or [0, max(gpu.memory_clocks)])[1]
        return (gpu.locked_graphics or [0, max(gpu.graphics_clocks)])[1]

    def nvmlDeviceSetGpuLockedClocks(
        self, handle: Any, minGpuClockMHz: int, maxGpuClockMHz: int
    ) -> None:
        gpu = self._settable(handle, "gpu_clocks", minGpuClockMHz, maxGpuClockMHz)
        if gpu.compute_capability < (7, 0):
            raise NVMLError_NotSupported()
        if not minGpuClockMHz <= maxGpuClockMHz:
            raise NVMLError_InvalidArgument()
        gpu.locked_graphics = [minGpuClockMHz, maxGpuClockMHz]

    def nvmlDeviceResetGpuLockedClocks(self, handle: Any) -> None:
        self._settable(handle, "reset_gpu_clocks").locked_graphics = None

    def nvmlDeviceSetMemoryLockedClocks(
        self, handle: Any, minMemClockMHz: int, maxMemClockMHz: int
    ) -> None:
        gpu = self._settable(handle, "memory_clocks", minMemClockMHz, maxMemClockMHz)
        if gpu.compute_capability < (8, 0):
            raise NVMLError_NotSupported()
        gpu.locked_memory = [minMemClockMHz, maxMemClockMHz]

    def nvmlDeviceResetMemoryLockedClocks(self, handle: Any) -> None:
        self._settable(handle, "reset_memory_clocks").locked_memory = None

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
