"""Under-used hardware, the evidence, what to use instead, and what it would save.

Savings are bounded from what the run measured, never from a catalogue guess:
- an under-used GPU: the energy it drew while idle (idle share of the
  sampler's ticks × the 10th percentile of its interval power × run time) is
  the most that feeding it better or sharing it could save; the range comes
  from the sampling error of the idle share (±2 standard errors);
- surplus CPU cores: under vatio's TDP model (power = TDP × utilisation) idle
  cores cost nothing, so the central saving is 0 and the high bound takes the
  model's 30 % idle floor for the unused share; with RAPL, the low-percentile
  package power stands for the static floor that fewer cores would shrink;
- surplus RAM: not estimated (vatio models memory power by use, not capacity).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from vatio.rightsize.evidence import GpuUse, RunFit, median_or_none

DEFAULT_THRESHOLD = 0.3
MEMORY_SHARE = 0.25
IDLE_FLOOR_HIGH = 0.3  # vatio's TDP model: the high bound's idle floor (devices/estimate.py)


@dataclass
class Saving:
    low_j: float
    high_j: float
    share_low: float | None
    share_high: float | None
    method: str


@dataclass
class Finding:
    run_id: str
    device: str
    status: str  # "under-used", "fits", "unknown"
    evidence: str
    suggestions: list[str] = field(default_factory=list)
    saving: Saving | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _gb(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def gpu_finding(fit: RunFit, gpu: GpuUse, threshold: float) -> Finding:
    label = f"{gpu.name.upper().replace(':', ' ')}" + (f" ({gpu.model})" if gpu.model else "")
    if gpu.utilisation is None:
        return Finding(fit.id, gpu.name, "unknown", f"{label}: utilisation not recorded")
    memory = (
        f" and {_gb(gpu.memory_peak_gb)} of {_gb(gpu.memory_total_gb)} GB (peak)"
        if gpu.memory_peak_gb is not None
        else ""
    )
    evidence = (
        f"{label} averaged {gpu.utilisation:.0%} utilisation{memory} over "
        f"{_minutes(fit.duration_s)}"
    )
    if gpu.idle_share is not None:
        evidence += f"; idle in {gpu.idle_share:.0%} of the samples"
    if gpu.utilisation >= threshold:
        return Finding(fit.id, gpu.name, "fits", evidence)
    finding = Finding(fit.id, gpu.name, "under-used", evidence)
    roomy = (
        gpu.memory_peak_gb is not None
        and gpu.memory_total_gb
        and gpu.memory_peak_gb <= 0.5 * gpu.memory_total_gb
    )
    if roomy:
        need = math.ceil((gpu.memory_peak_gb or 0) * 1.25)
        finding.suggestions.append(
            f"a smaller GPU with at least {need} GB would hold this job, or share this one "
            "(MIG slices, MPS, several jobs)"
        )
        finding.suggestions.append(
            "or feed it: a larger batch size or more data-loader workers (memory is not the limit)"
        )
    finding.suggestions.append(
        "a lower power limit costs little time while the GPU waits: measure it with "
        "`vatio power sweep --gpu-power-limits auto --steps 50 -- <job>`"
    )
    finding.saving = _idle_saving(gpu, fit)
    return finding


def _idle_saving(gpu: GpuUse, fit: RunFit) -> Saving | None:
    if gpu.idle_share is None or gpu.idle_power_w is None or not gpu.energy_j:
        return None
    samples = max(int(fit.duration_s), 1)
    error = 2 * math.sqrt(gpu.idle_share * (1 - gpu.idle_share) / samples)
    low_share, high_share = max(gpu.idle_share - error, 0.0), min(gpu.idle_share + error, 1.0)
    low = low_share * fit.duration_s * gpu.idle_power_w
    high = min(high_share * fit.duration_s * gpu.idle_power_w, gpu.energy_j)
    return Saving(
        low,
        high,
        low / gpu.energy_j,
        high / gpu.energy_j,
        f"idle share {gpu.idle_share:.0%} (±2 s.e.) × {gpu.idle_power_w:.0f} W (10th percentile "
        f"of interval power) × {_minutes(fit.duration_s)}; {gpu.method}; an upper bound of "
        "what a better-fed or shared GPU saves",
    )


def cpu_finding(fit: RunFit, threshold: float) -> Finding:
    if fit.job_cores_mean is None or not fit.cpu_count:
        return Finding(fit.id, "cpu", "unknown", "the job's CPU time was not recorded")
    share = fit.job_cores_mean / fit.cpu_count
    machine = (
        f" (machine {fit.machine_cpu_utilisation:.0%} busy)"
        if fit.machine_cpu_utilisation is not None
        else ""
    )
    evidence = f"the job used {fit.job_cores_mean:.1f} of {fit.cpu_count} CPUs on average{machine}"
    if fit.cpu_idle_share is not None and fit.cpu_idle_share >= threshold:
        evidence += f"; the CPUs were idle in {fit.cpu_idle_share:.0%} of the samples"
    if share >= threshold or fit.gpus:  # with GPUs, the CPU feeds them: judge the GPUs
        return Finding(fit.id, "cpu", "fits", evidence)
    finding = Finding(fit.id, "cpu", "under-used", evidence)
    low_cores = max(1, math.ceil(fit.job_cores_mean * 1.25))
    finding.suggestions.append(
        f"{low_cores}–{max(low_cores, math.ceil(fit.job_cores_mean * 2))} cores would do (vatio "
        "records the mean, not the peak: check bursts before downsizing), or run several jobs "
        "side by side"
    )
    finding.saving = _core_saving(fit, low_cores)
    return finding


def _core_saving(fit: RunFit, cores: int) -> Saving | None:
    if not fit.cpu_count or fit.cpu_energy_j is None or not fit.cpu_energy_j:
        return None
    spare = max(1 - cores / fit.cpu_count, 0.0)
    if fit.cpu_method == "estimated:tdp" and fit.cpu_tdp_w:
        high = IDLE_FLOOR_HIGH * fit.cpu_tdp_w * spare * fit.duration_s
        return Saving(
            0.0,
            high,
            0.0,
            high / fit.cpu_energy_j,
            f"TDP model: idle cores cost 0 in the central estimate; the high bound's "
            f"{IDLE_FLOOR_HIGH:.0%} idle floor × {fit.cpu_tdp_w:.0f} W × {spare:.0%} spare "
            f"cores × {_minutes(fit.duration_s)}",
        )
    if fit.cpu_idle_power_w is not None:
        high = fit.cpu_idle_power_w * spare * fit.duration_s
        return Saving(
            0.0,
            high,
            0.0,
            high / fit.cpu_energy_j,
            f"{fit.cpu_method}: 10th-percentile power {fit.cpu_idle_power_w:.0f} W as the "
            f"static floor × {spare:.0%} spare cores (assumes it scales with cores)",
        )
    return None


def memory_finding(fit: RunFit) -> Finding | None:
    if fit.job_memory_peak_gb is None or not fit.memory_total_gb:
        return None
    evidence = f"RAM peak {_gb(fit.job_memory_peak_gb)} of {_gb(fit.memory_total_gb)} GB"
    if fit.job_memory_peak_gb > MEMORY_SHARE * fit.memory_total_gb:
        return Finding(fit.id, "memory", "fits", evidence)
    need = 2 ** math.ceil(math.log2(max(fit.job_memory_peak_gb * 1.5, 1.0)))
    return Finding(
        fit.id,
        "memory",
        "under-used",
        evidence,
        [f"{need} GB would do for this job"],
        None,
    )


def advise(fits: list[RunFit], threshold: float = DEFAULT_THRESHOLD) -> list[Finding]:
    findings: list[Finding] = []
    for fit in fits:
        findings += [gpu_finding(fit, gpu, threshold) for gpu in fit.gpus]
        findings.append(cpu_finding(fit, threshold))
        memory = memory_finding(fit)
        if memory is not None:
            findings.append(memory)
    return findings


def summary(fits: list[RunFit], findings: list[Finding]) -> list[str]:
    """One line per device kind over all runs."""
    lines = []
    for kind in ("gpu", "cpu", "memory"):
        mine = [f for f in findings if f.device.startswith(kind)]
        judged = [f for f in mine if f.status != "unknown"]
        if not judged:
            continue
        low = [f for f in judged if f.status == "under-used"]
        if kind == "gpu":
            level = median_or_none([g.utilisation for fit in fits for g in fit.gpus])
            extra = f" (median utilisation {level:.0%})" if level is not None else ""
        elif kind == "cpu":
            shares = [
                fit.job_cores_mean / fit.cpu_count
                for fit in fits
                if fit.job_cores_mean is not None and fit.cpu_count
            ]
            level = median_or_none(shares)
            extra = f" (median {level:.0%} of the CPUs)" if level is not None else ""
        else:
            extra = ""
        lines.append(f"{kind.upper()}: under-used in {len(low)} of {len(judged)} judged{extra}")
    return lines
