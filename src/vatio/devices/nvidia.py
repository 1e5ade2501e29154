"""NVIDIA GPU energy through NVML (the nvidia-ml-py package, imported as ``pynvml``).

Volta and newer GPUs keep a millijoule energy counter, which loses nothing
between reads. Older GPUs only report instantaneous power, integrated here with
the trapezoid rule. The NVML module is a parameter so tests can pass a fake one;
no GPU is a normal outcome, reported as a status, never raised.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterable, Mapping
from typing import Any

from vatio.devices.common import (
    MEASURED_NVML_COUNTER,
    MEASURED_NVML_POWER,
    ZERO,
    Discovery,
    EnergySensor,
    Reading,
    SensorStatus,
)
from vatio.devices.visibility import NO_GPU_HINT, gpu_status, nvml_optional, nvml_text, visible_gpus
from vatio.errors import SensorReadError

#: NVML power readings are themselves averaged over about a second on most boards
POWER_INTERVAL_S = 1.0
_COUNTER_FN, _POWER_FN = "nvmlDeviceGetTotalEnergyConsumption", "nvmlDeviceGetPowerUsage"
_POWER_ASSUMPTION = (
    f"Power sampled every <= {POWER_INTERVAL_S:g} s and integrated with the trapezoid rule; "
    "changes faster than that are smoothed (a few percent of the energy for bursty loads)."
)


#: names a module to use instead of pynvml (other bindings, or a fake for rehearsals)
NVML_MODULE_ENV = "VATIO_NVML_MODULE"


def _load(nvml: Any) -> tuple[Any, str]:
    if nvml is not None:
        return nvml, ""
    name = os.environ.get(NVML_MODULE_ENV) or "pynvml"
    if name == "pynvml" and not _driver_present():
        return (
            None,
            "no NVIDIA driver on this machine (/proc/driver/nvidia and /dev/nvidia* absent)",
        )
    try:  # lazy: keeps `import vatio` fast on GPU-free machines
        return importlib.import_module(name), ""
    except ImportError as exc:
        what = "nvidia-ml-py not installed" if name == "pynvml" else f"{name} not importable"
        return None, f"{what}: {exc}"


def _driver_present() -> bool:
    """The NVIDIA kernel driver is loaded (or its devices are passed into a container):
    checked with two stats before importing and initialising NVML (tens of ms)."""
    if os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidiactl"):
        return True
    try:
        return any(name.startswith("nvidia") for name in os.listdir("/dev"))
    except OSError:
        return True  # cannot tell: try NVML


class _Session:
    """One nvmlInit shared by the sensors of a discovery; shut down when the last closes."""

    def __init__(self, nvml: Any) -> None:
        self.nvml, self.users, self.done = nvml, 0, False

    def shutdown_if_unused(self) -> None:
        if self.users <= 0 and not self.done:
            self.done = True
            with contextlib.suppress(Exception):  # shutting down must not fail a run
                self.nvml.nvmlShutdown()


def _cuda_version(nvml: Any) -> str | None:
    for fn_name in ("nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion"):
        value = nvml_optional(getattr(nvml, fn_name, None))
        if value:
            return f"{value // 1000}.{value % 1000 // 10}"
    return None


def _device_facts(nvml: Any, handle: Any) -> dict[str, Any]:
    """Static facts for describe() and the run manifest."""
    memory = nvml_optional(nvml.nvmlDeviceGetMemoryInfo, handle)
    limit_mw = nvml_optional(nvml.nvmlDeviceGetEnforcedPowerLimit, handle)
    driver = nvml_optional(nvml.nvmlSystemGetDriverVersion)
    return {
        "model": nvml_text(nvml_optional(nvml.nvmlDeviceGetName, handle) or "unknown"),
        "uuid": nvml_text(nvml_optional(nvml.nvmlDeviceGetUUID, handle) or ""),
        "memory_total_mb": round(memory.total / 2**20) if memory is not None else None,
        "driver": nvml_text(driver) if driver else None,
        "cuda": _cuda_version(nvml),
        "power_limit_w": limit_mw / 1000 if limit_mw else None,
    }


class _UseStats:
    """Mean utilisation and memory in use at the sampler's ticks, for right-sizing.

    nvmlDeviceGetUtilizationRates gives the share of the last sample period
    (1/6 s to 1 s by board) in which a kernel ran; memory is the board's total in
    use, all processes included. A board that lacks either is simply not summarised.
    """

    IDLE_PERCENT = 5

    def __init__(self) -> None:
        self.supported, self.count, self.idle = True, 0, 0
        self.util_sum = self.mem_util_sum = 0.0
        self.used_sum = self.used_peak = 0.0

    def sample(self, nvml: Any, handle: Any) -> None:
        if not self.supported:
            return
        try:
            rates = nvml.nvmlDeviceGetUtilizationRates(handle)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        except Exception:  # NotSupported on some boards and vGPUs: stop asking
            self.supported = False
            return
        self.count += 1
        self.util_sum += rates.gpu
        self.mem_util_sum += rates.memory
        self.idle += rates.gpu < self.IDLE_PERCENT
        self.used_sum += memory.used
        self.used_peak = max(self.used_peak, float(memory.used))

    def summary(self) -> dict[str, Any]:
        if not self.count:
            return {}
        n = self.count
        return {
            "mean_utilisation": self.util_sum / n / 100,
            "memory_bandwidth_utilisation": self.mem_util_sum / n / 100,
            "idle_share": self.idle / n,
            "memory_used_mean_mb": round(self.used_sum / n / 2**20),
            "memory_used_peak_mb": round(self.used_peak / 2**20),
            "utilisation_samples": n,
        }


class NvidiaSensor(EnergySensor):
    """One GPU: the energy counter when `counter` is true, else trapezoid-integrated power."""

    device = "gpu"

    def __init__(self, session: _Session, index: int, handle: Any, counter: bool) -> None:
        super().__init__()
        self.name, self.index, self.handle = f"gpu:{index}", index, handle
        self.method = MEASURED_NVML_COUNTER if counter else MEASURED_NVML_POWER
        self.facts = _device_facts(session.nvml, handle)
        self._nvml, self._session, self._closed = session.nvml, session, False
        session.users += 1
        self._started_at: float | None = None
        self._last: tuple[float, int] | None = None  # (time, raw mJ or mW) of the last good read
        self._failed = False  # a read failed since the last good one
        self._total_j = 0.0  # power mode
        self._total_mj = 0  # counter mode: integer, so long runs accumulate no rounding
        self.unmeasured_s = 0.0  # before the first good read, when start() itself failed
        self.gap_s = 0.0  # power mode: seconds bridged by one trapezoid across failed reads
        self.resets = 0  # counter mode: times the counter went backwards (driver reload)
        self._util_supported, self._util_ts = True, 0
        self._use = _UseStats()
        if not counter:
            self.assumptions.append(_POWER_ASSUMPTION)

    @property
    def max_interval_s(self) -> float | None:
        return None if self.method == MEASURED_NVML_COUNTER else POWER_INTERVAL_S

    def _raw(self) -> int:
        """Counter (mJ) or power (mW); a failure is counted and raised as SensorReadError."""
        fn_name = _COUNTER_FN if self.method == MEASURED_NVML_COUNTER else _POWER_FN
        try:
            return int(getattr(self._nvml, fn_name)(self.handle))
        except self._nvml.NVMLError as exc:
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._failed = True
            raise SensorReadError(f"{self.name}: {fn_name} failed: {exc}") from exc

    def start(self, now: float) -> None:
        self._started_at, self._last, self._failed = now, None, False
        self._total_j, self._total_mj = 0.0, 0
        self._last = (now, self._raw())

    def read(self, now: float) -> Reading:
        raw = self._raw()
        self._use.sample(self._nvml, self.handle)
        if self._last is None:  # start() failed: energy before this read was not seen
            self.unmeasured_s += max(0.0, now - (self._started_at or now))
            self._last, self._failed = (now, raw), False
            return ZERO
        then, before = self._last
        if self.method == MEASURED_NVML_COUNTER:
            self.resets += raw < before  # counter restarted from zero
            self._total_mj += raw - before if raw >= before else raw
            self._last, self._failed = (now, raw), False
            return Reading.exact(self._total_mj / 1000)
        if self._failed:
            self.gap_s += max(0.0, now - then)
        self._total_j += (before + raw) / 2 / 1000 * max(0.0, now - then)
        self._last, self._failed = (now, raw), False
        return Reading.exact(self._total_j)

    def process_share(self, pids: Iterable[int]) -> float | None:
        """Our share from per-process SM utilisation, else from the running-process list."""
        ours = set(pids)
        share = self._share_from_utilization(ours)
        return share if share is not None else self._share_from_processes(ours)

    def _share_from_utilization(self, ours: set[int]) -> float | None:
        if not self._util_supported:
            return None
        try:
            samples = self._nvml.nvmlDeviceGetProcessUtilization(self.handle, self._util_ts)
        except getattr(self._nvml, "NVMLError_NotSupported", ()):
            self._util_supported = False
            return None
        except self._nvml.NVMLError:  # e.g. NotFound: no sample since the last call
            return None
        if not samples:
            return None
        self._util_ts = max(s.timeStamp for s in samples)
        total = sum(s.smUtil for s in samples)
        mine = sum(s.smUtil for s in samples if s.pid in ours)
        return mine / total if total > 0 else None

    def _share_from_processes(self, ours: set[int]) -> float | None:
        """1.0 when every GPU process is ours, 0.0 when none is, memory-weighted between.

        In a container NVML may list host PIDs, which never match ours; 0.0 there is suspect.
        """
        kinds = ("Compute", "Graphics")
        fns = [getattr(self._nvml, f"nvmlDeviceGet{k}RunningProcesses", None) for k in kinds]
        lists = [nvml_optional(fn, self.handle) for fn in fns]
        if all(procs is None for procs in lists):
            return None
        procs = [p for found in lists for p in found or []]
        memory: dict[int, int] = {}
        for p in procs:
            memory[p.pid] = max(memory.get(p.pid, 0), p.usedGpuMemory or 0)
        mine = [pid for pid in memory if pid in ours]
        total = sum(memory.values())
        if not memory:
            return None
        if total == 0 or any(p.usedGpuMemory is None for p in procs):
            return len(mine) / len(memory)  # count-weighted when memory use is unknown
        return sum(memory[pid] for pid in mine) / total

    def describe(self) -> dict:
        facts = {**super().describe(), **self.facts, "nvml_index": self.index}
        facts.update(max_interval_s=self.max_interval_s, unmeasured_s=self.unmeasured_s)
        facts.update(errors=self.errors, last_error=self.last_error)
        facts.update(self._use.summary())
        if self.method == MEASURED_NVML_POWER:
            facts["gap_s"] = self.gap_s
        else:
            facts["counter_resets"] = self.resets
        return {**facts, "assumptions": list(self.assumptions)}

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._session.users -= 1
            self._session.shutdown_if_unused()


def discover_nvidia(nvml: Any = None, env: Mapping[str, str] = os.environ) -> Discovery:
    """Make a sensor for every GPU visible to this process (CUDA_VISIBLE_DEVICES honoured)."""
    found = Discovery()
    nvml, reason = _load(nvml)
    if nvml is None:
        found.statuses.append(gpu_status(f"NVML not available ({reason})", NO_GPU_HINT))
        return found
    try:
        nvml.nvmlInit()
    except Exception as exc:  # LibraryNotFound, DriverNotLoaded, OSError...
        reason = f"{type(exc).__name__}: {exc}"
        found.statuses.append(gpu_status(f"NVML not available ({reason})", NO_GPU_HINT))
        return found
    session = _Session(nvml)
    try:
        indices, notes = visible_gpus(nvml, env)
        found.statuses.extend(notes)
        for index in indices:
            _add_sensor(session, index, found)
    except nvml.NVMLError as exc:  # e.g. the GPU count itself fails
        found.statuses.append(gpu_status(f"NVML failed while listing GPUs ({exc})", NO_GPU_HINT))
    finally:
        session.shutdown_if_unused()
    return found


def _add_sensor(session: _Session, index: int, found: Discovery) -> None:
    """Probe one GPU: counter if supported, else power, else a status saying why not."""
    nvml, name = session.nvml, f"gpu:{index}"
    try:
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
    except nvml.NVMLError as exc:
        found.statuses.append(gpu_status(f"GPU {index} unusable ({exc})", name=name))
        return
    counter_error = _probe(nvml, "nvmlDeviceGetTotalEnergyConsumption", handle)
    power_error = _probe(nvml, "nvmlDeviceGetPowerUsage", handle) if counter_error else None
    if power_error is not None:
        detail = f"GPU {index} reports neither energy ({counter_error}) nor power ({power_error})"
        found.statuses.append(gpu_status(detail, name=name))
        return
    sensor = NvidiaSensor(session, index, handle, counter=counter_error is None)
    not_supported = getattr(nvml, "NVMLError_NotSupported", ())
    if counter_error is not None and not isinstance(counter_error, not_supported):
        sensor.assumptions.append(f"Energy counter failed at discovery ({counter_error}).")
    found.sensors.append(sensor)
    detail = f"NVIDIA: GPU {index} {sensor.facts['model']} ({sensor.facts['uuid']})"
    found.statuses.append(SensorStatus(name, True, sensor.method, detail))


def _probe(nvml: Any, fn_name: str, handle: Any) -> Exception | None:
    """The NVML error a query raises, or None when it works."""
    try:
        getattr(nvml, fn_name)(handle)
    except Exception as exc:  # NVMLError, or a function this pynvml lacks
        return exc
    return None


def gpu_inventory(nvml: Any = None) -> list[dict]:
    """Every GPU NVML sees, for the run manifest; [] when NVML is absent."""
    nvml, _ = _load(nvml)
    if nvml is None:
        return []
    try:
        nvml.nvmlInit()
    except Exception:  # no driver: no GPUs to list
        return []
    try:
        rows = []
        for index in range(nvml.nvmlDeviceGetCount()):
            facts = _device_facts(nvml, nvml.nvmlDeviceGetHandleByIndex(index))
            facts["name"] = facts.pop("model")
            rows.append({"index": index, **facts})
        return rows
    except Exception:  # a manifest without GPUs beats a failed run
        return []
    finally:
        nvml_optional(nvml.nvmlShutdown)


#: NVML API Reference: nvmlDeviceGetTotalEnergyConsumption is "For Volta or newer fully
#: supported devices"; Volta is compute capability 7.0.
ENERGY_COUNTER_MIN_CC = (7, 0)


def _capability(nvml: Any, fn_name: str, handle: Any) -> str:
    fn = getattr(nvml, fn_name, None)
    if fn is None:
        return "missing-in-bindings"
    try:
        fn(handle)
    except Exception as exc:
        for kind, label in (
            ("FunctionNotFound", "missing-in-driver"),
            ("NotSupported", "not-supported"),
            ("NoPermission", "no-permission"),
        ):
            cls = getattr(nvml, f"NVMLError_{kind}", None)
            if cls is not None and isinstance(exc, cls):
                return label
        return f"error: {exc}"
    return "ok"


def capabilities(nvml: Any = None) -> list[dict[str, Any]]:
    """Per GPU: the energy counter and power-limit queries this driver offers, for
    `vatio env compat` and `vatio check`. [] without NVML or GPUs."""
    nvml, _ = _load(nvml)
    if nvml is None:
        return []
    try:
        nvml.nvmlInit()
    except Exception:  # no driver: nothing to judge
        return []
    try:
        driver = nvml_optional(nvml.nvmlSystemGetDriverVersion)
        rows = []
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            cc = nvml_optional(getattr(nvml, "nvmlDeviceGetCudaComputeCapability", None), handle)
            rows.append(
                {
                    "index": index,
                    "name": nvml_text(nvml_optional(nvml.nvmlDeviceGetName, handle) or "unknown"),
                    "driver": nvml_text(driver) if driver else None,
                    "compute_capability": tuple(cc) if cc else None,
                    "energy_counter": _capability(nvml, _COUNTER_FN, handle),
                    "power_limit": _capability(
                        nvml, "nvmlDeviceGetPowerManagementLimitConstraints", handle
                    ),
                }
            )
        return rows
    except Exception:  # a broken query must not break the compatibility report
        return []
    finally:
        nvml_optional(nvml.nvmlShutdown)
