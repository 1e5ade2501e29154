"""Power estimates for machines without energy counters (VMs, most clouds).

CPU: Green Algorithms' usage-factor model, P = TDP x utilisation, with the
TDP share of the cores this machine sees. The range is wide on purpose:
real CPUs rarely draw TDP (low: half of it) but also draw power when idle
(high: a 30 % idle floor). Memory: 0.3725 W per GB in use.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil

from vatio.devices.catalog import DEFAULT_TDP_PER_CORE_W, MEMORY_W_PER_GB, match_cpu
from vatio.devices.common import ESTIMATED_MEMORY, ESTIMATED_TDP, EnergySensor, Reading

LOW_FACTOR = 0.5
IDLE_FLOOR_HIGH = 0.3
MEMORY_LOW_FACTOR = 0.5
MEMORY_HIGH_FACTOR = 1.5


@dataclass(frozen=True)
class CpuPowerModel:
    """The watts this machine's visible CPUs are assumed to draw at full load, and why."""

    tdp_w: float
    assumptions: tuple[str, ...]

    def power(self, utilisation: float) -> tuple[float, float, float]:
        """Central, low and high power (W) at a machine utilisation in [0, 1]."""
        u = min(max(utilisation, 0.0), 1.0)
        central = self.tdp_w * u
        return (
            central,
            LOW_FACTOR * central,
            self.tdp_w * (IDLE_FLOOR_HIGH + (1 - IDLE_FLOOR_HIGH) * u),
        )


def cpu_model_name(cpuinfo_path: str = "/proc/cpuinfo") -> str:
    try:
        with open(cpuinfo_path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown CPU"


def _socket_count(cpuinfo_path: str = "/proc/cpuinfo") -> int:
    ids = set()
    try:
        with open(cpuinfo_path, encoding="utf-8", errors="replace") as handle:
            ids = {
                line.split(":", 1)[1].strip() for line in handle if line.startswith("physical id")
            }
    except OSError:
        pass
    return max(len(ids), 1)


def _visible_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return psutil.cpu_count() or 1


def build_cpu_model(
    model_name: str | None = None,
    logical_cpus: int | None = None,
    tdp_override_w: float | None = None,
    cpuinfo_path: str = "/proc/cpuinfo",
) -> CpuPowerModel:
    """The TDP share for the CPUs visible here, from the profile, the tables or the default."""
    name = model_name or cpu_model_name(cpuinfo_path)
    cpus = logical_cpus or _visible_cpus()
    if tdp_override_w is not None:
        return CpuPowerModel(tdp_override_w, (f"CPU TDP {tdp_override_w:g} W from the profile",))
    match = match_cpu(name)
    if match is None:
        tdp = DEFAULT_TDP_PER_CORE_W * cpus
        return CpuPowerModel(
            tdp,
            (
                f"CPU model {name!r} not in the TDP tables: default {DEFAULT_TDP_PER_CORE_W:g} W "
                f"per core (Green Algorithms) x {cpus} visible CPUs = {tdp:g} W",
                "set `cpu_tdp_w` in the profile to use the real figure",
            ),
        )
    sockets = _socket_count(cpuinfo_path)
    whole = match.tdp_w * sockets
    per_core = match.tdp_w / match.cores if match.cores else None
    if per_core is not None and per_core * cpus < whole:
        tdp = per_core * cpus
        how = f"{per_core:.1f} W per core x {cpus} visible CPUs"
    else:
        tdp = whole
        how = f"{match.tdp_w:g} W x {sockets} socket(s)"
    return CpuPowerModel(
        tdp,
        (
            f"CPU {name!r} matched {match.model!r} in {match.source} table "
            f"(score {match.score:g}): TDP {match.tdp_w:g} W; {how} = {tdp:g} W",
        ),
    )


def _busy_and_total(times) -> tuple[float, float]:
    total = sum(times)
    idle = times.idle + getattr(times, "iowait", 0.0)
    return total - idle, total


class CpuTdpEstimator(EnergySensor):
    """Integrates TDP x machine utilisation between reads."""

    name = "cpu:estimated"
    device = "cpu"
    method = ESTIMATED_TDP

    def __init__(
        self, model: CpuPowerModel, cpu_times: Callable[[], object] = psutil.cpu_times
    ) -> None:
        super().__init__()
        self.model = model
        self.assumptions = [
            *model.assumptions,
            "power = TDP x machine CPU utilisation (Green Algorithms usage-factor model)",
            f"range: low = {LOW_FACTOR:g} x that, high adds a {IDLE_FLOOR_HIGH:.0%} idle floor",
        ]
        self._cpu_times = cpu_times
        self._last: tuple[float, float, float] | None = None
        self._total = Reading(0.0, 0.0, 0.0)
        self.utilisation = 0.0

    def start(self, now: float) -> None:
        busy, total = _busy_and_total(self._cpu_times())
        self._last = (now, busy, total)
        self._total = Reading(0.0, 0.0, 0.0)

    def start_from(self, origin: Any, now: float) -> bool:
        if origin.cpu_busy_s is None or self._cpu_times is not psutil.cpu_times:
            return super().start_from(origin, now)
        self._last = (origin.monotonic, origin.cpu_busy_s, origin.cpu_total_s)
        self._total = Reading(0.0, 0.0, 0.0)
        return True

    def read(self, now: float) -> Reading:
        busy, total = _busy_and_total(self._cpu_times())
        if self._last is None:
            self._last = (now, busy, total)
            return self._total
        then, last_busy, last_total = self._last
        dt = now - then
        span = total - last_total
        if dt > 0 and span > 0:
            self.utilisation = (busy - last_busy) / span
            central, low, high = self.model.power(self.utilisation)
            t = self._total
            self._total = Reading(
                t.energy_j + central * dt, t.low_j + low * dt, t.high_j + high * dt
            )
        self._last = (now, busy, total)
        return self._total

    def describe(self) -> dict:
        return {**super().describe(), "tdp_w": self.model.tdp_w, "assumptions": self.assumptions}


class MemoryEstimator(EnergySensor):
    """Integrates 0.3725 W/GB x memory in use (trapezoid between reads)."""

    name = "memory:estimated"
    device = "memory"
    method = ESTIMATED_MEMORY

    def __init__(
        self,
        w_per_gb: float = MEMORY_W_PER_GB,
        used_bytes: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.w_per_gb = w_per_gb
        self._used = used_bytes or (lambda: float(psutil.virtual_memory().used))
        self._last: tuple[float, float] | None = None
        self._total = Reading(0.0, 0.0, 0.0)
        self.assumptions = [
            f"memory power {w_per_gb:g} W per GB in use (Green Algorithms)",
            f"range x{MEMORY_LOW_FACTOR:g} to x{MEMORY_HIGH_FACTOR:g}: DRAM power varies with "
            "generation and activity",
        ]

    def start(self, now: float) -> None:
        self._last = (now, self._used())
        self._total = Reading(0.0, 0.0, 0.0)

    def start_from(self, origin: Any, now: float) -> bool:
        """Memory in use changes slowly: the amount now stands for the moments before."""
        self._last = (origin.monotonic, self._used())
        self._total = Reading(0.0, 0.0, 0.0)
        return True

    def read(self, now: float) -> Reading:
        used = self._used()
        if self._last is None:
            self._last = (now, used)
            return self._total
        then, last_used = self._last
        dt = max(now - then, 0.0)
        joules = self.w_per_gb * (used + last_used) / 2 / 1e9 * dt
        t = self._total
        self._total = Reading(
            t.energy_j + joules,
            t.low_j + joules * MEMORY_LOW_FACTOR,
            t.high_j + joules * MEMORY_HIGH_FACTOR,
        )
        self._last = (now, used)
        return self._total

    def describe(self) -> dict:
        return {**super().describe(), "w_per_gb": self.w_per_gb, "assumptions": self.assumptions}
