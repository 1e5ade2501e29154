"""What one recorded run says about how well it used its hardware.

Read from the record only: `sampler` (machine CPU utilisation, the job's CPU
seconds and memory peak, idle share), the GPU sensors' details (mean
utilisation, memory in use, power limit), the manifest (cores, RAM, GPUs) and
the timeline (power per interval). Anything a record does not hold is listed
in `missing` — older records lack the job's CPU time and the GPU utilisation,
which vatio records since this feature — and never guessed.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

GB = 2**30


@dataclass
class GpuUse:
    name: str
    model: str | None
    utilisation: float | None  # 0..1, mean of the sampler's ticks
    idle_share: float | None
    memory_peak_gb: float | None
    memory_total_gb: float | None
    power_limit_w: float | None
    mean_power_w: float | None
    idle_power_w: float | None  # 10th percentile of the per-interval power
    energy_j: float
    method: str


@dataclass
class RunFit:
    id: str
    name: str | None
    kind: str
    started_at: str | None
    ended_at: str | None
    duration_s: float
    cpu_count: int | None
    machine_cpu_utilisation: float | None
    job_cores_mean: float | None  # the job's CPU seconds / wall seconds
    cpu_idle_share: float | None
    memory_total_gb: float | None
    job_memory_peak_gb: float | None
    cpu_energy_j: float | None
    cpu_method: str | None
    cpu_tdp_w: float | None
    cpu_idle_power_w: float | None
    gpus: list[GpuUse] = field(default_factory=list)
    energy_j: float | None = None
    samples: float | None = None
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _interval_powers(record: dict[str, Any], sensor: str) -> list[float]:
    """Average power of each timeline interval for one sensor (W)."""
    timeline = record.get("timeline") or {}
    return [float(p) for p in (timeline.get("power_w") or {}).get(sensor) or []]


def _low_power(powers: list[float]) -> float | None:
    if len(powers) < 5:
        return None
    ordered = sorted(powers)
    return ordered[len(ordered) // 10]


def run_fit(record: dict[str, Any]) -> RunFit:
    """The hardware-use evidence of one record."""
    sampler = record.get("sampler") or {}
    manifest = record.get("manifest") or {}
    duration = float(record.get("duration_s") or 0.0)
    cpu_info = manifest.get("cpu") or {}
    fit = RunFit(
        id=record.get("id", "?"),
        name=record.get("name"),
        kind=record.get("kind") or (record.get("summary") or {}).get("kind") or "run",
        started_at=record.get("started_at"),
        ended_at=record.get("ended_at"),
        duration_s=duration,
        cpu_count=sampler.get("cpu_count") or cpu_info.get("logical_cores"),
        machine_cpu_utilisation=sampler.get("cpu_utilisation"),
        job_cores_mean=None,
        cpu_idle_share=sampler.get("cpu_idle_share"),
        memory_total_gb=(sampler.get("memory_total_bytes") or 0) / GB or manifest.get("memory_gb"),
        job_memory_peak_gb=None,
        cpu_energy_j=None,
        cpu_method=None,
        cpu_tdp_w=None,
        cpu_idle_power_w=None,
    )
    if "process_cpu_s" in sampler and duration > 0:
        fit.job_cores_mean = sampler["process_cpu_s"] / duration
    else:
        fit.missing.append("the job's CPU time (recorded by vatio since rightsize)")
    if sampler.get("process_rss_peak_bytes"):
        fit.job_memory_peak_gb = sampler["process_rss_peak_bytes"] / GB
    else:
        fit.missing.append("the job's memory peak")
    if fit.machine_cpu_utilisation is None:
        fit.missing.append("machine CPU utilisation")
    devices = record.get("devices") or []
    cpus = [d for d in devices if d.get("device") in ("cpu", "package")]
    if cpus:
        fit.cpu_energy_j = sum(d.get("energy_j") or 0.0 for d in cpus)
        fit.cpu_method = "+".join(sorted({d.get("method", "?") for d in cpus}))
        tdps = [(d.get("details") or {}).get("tdp_w") for d in cpus]
        fit.cpu_tdp_w = sum(t for t in tdps if t) or None
        lows = [_low_power(_interval_powers(record, d["name"])) for d in cpus]
        fit.cpu_idle_power_w = sum(v for v in lows if v is not None) if any(lows) else None
    fit.energy_j = sum(d.get("energy_j") or 0.0 for d in devices) if devices else None
    fit.samples = (record.get("work") or {}).get("samples")
    inventory = {g.get("index"): g for g in manifest.get("gpus") or []}
    for device in (d for d in devices if d.get("device") == "gpu"):
        fit.gpus.append(_gpu_use(record, device, inventory, duration, fit.missing))
    return fit


def _gpu_use(
    record: dict[str, Any],
    device: dict[str, Any],
    inventory: dict[Any, dict[str, Any]],
    duration: float,
    missing: list[str],
) -> GpuUse:
    details = device.get("details") or {}
    facts = inventory.get(details.get("nvml_index"), {})
    total_mb = details.get("memory_total_mb") or facts.get("memory_total_mb")
    peak_mb = details.get("memory_used_peak_mb")
    if details.get("mean_utilisation") is None:
        missing.append(f"{device['name']} utilisation and memory in use (recorded since rightsize)")
    energy = float(device.get("energy_j") or 0.0)
    return GpuUse(
        name=device["name"],
        model=details.get("model") or facts.get("name"),
        utilisation=details.get("mean_utilisation"),
        idle_share=details.get("idle_share"),
        memory_peak_gb=peak_mb / 1024 if peak_mb is not None else None,
        memory_total_gb=total_mb / 1024 if total_mb else None,
        power_limit_w=details.get("power_limit_w") or facts.get("power_limit_w"),
        mean_power_w=energy / duration if duration > 0 else None,
        idle_power_w=_low_power(_interval_powers(record, device["name"])),
        energy_j=energy,
        method=device.get("method", "?"),
    )


def median_or_none(values: list[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return statistics.median(found) if found else None
