"""From `vatio power sweep` flags to the settings to measure (and the automatic choice).

With no knob flag, the sweep picks the most effective knob this machine lets
vatio change, and says why: GPU power limit (Zeus's knob), else the CPU's
maximum frequency, else the job's thread count (which works everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vatio.errors import InputError
from vatio.power.common import Knob
from vatio.power.cores import allowed_cpus
from vatio.power.discovery import KnobSet
from vatio.power.plan import select_knobs
from vatio.power.settings import (
    Setting,
    grid,
    ladder,
    parse_frequencies_khz,
    parse_numbers,
    split_list,
)

AUTO_GPU_STEPS = 5
AUTO_CPU_STEPS = 4
GPU_STEP_W = 25.0  # Zeus's default spacing of power limits


@dataclass
class KnobFlags:
    gpu_power_limits: str | None = None
    gpu_clocks: str | None = None
    gpu_memory_clocks: str | None = None
    cpu_max_freqs: str | None = None
    governors: str | None = None
    epps: str | None = None
    max_perf_pcts: str | None = None
    threads: str | None = None
    cores: str | None = None
    gpus: str | None = None

    def any_knob(self) -> bool:
        return any(v is not None for k, v in vars(self).items() if k != "gpus")


@dataclass
class Chosen:
    settings: list[Setting]
    gpus: list[int] | None
    notes: list[str] = field(default_factory=list)


def parse_gpus(text: str | None) -> list[int] | None:
    if text is None:
        return None
    found = []
    for item in split_list(text, "--gpus"):
        if not item.isdigit():
            raise InputError(f"--gpus: {item!r} is not a GPU index.", "Give indices, e.g. 0,1.")
        found.append(int(item))
    return found


def power_of_two_counts(top: int) -> list[int]:
    counts, n = [], 1
    while n < top:
        counts.append(n)
        n *= 2
    counts.append(top)
    return counts


def _auto_range(knobs: list[Knob]) -> tuple[float, float] | None:
    lows, highs = [], []
    for knob in knobs:
        allowed = knob.allowed()
        if "min" not in allowed or "max" not in allowed:
            return None
        lows.append(allowed["min"])
        highs.append(allowed["max"])
    return (max(lows), min(highs)) if lows else None


def _usable(knobs: list[Knob]) -> tuple[bool, str | None]:
    if not knobs:
        return False, "none here"
    for knob in knobs:
        status = knob.status()
        if not (status.readable and status.writable):
            return False, f"{status.reason} ({status.fix})" if status.fix else status.reason
    return True, None


def choose_settings(flags: KnobFlags, knobset: KnobSet) -> Chosen:
    gpus = parse_gpus(flags.gpus)
    choices: dict[str, list[Any]] = {}
    notes: list[str] = []
    if not flags.any_knob():
        return _automatic(knobset, gpus)
    if flags.gpu_power_limits is not None:
        if flags.gpu_power_limits.strip().lower() == "auto":
            choices["gpu_power_limit_w"] = _gpu_ladder(knobset, gpus)
        else:
            choices["gpu_power_limit_w"] = parse_numbers(
                flags.gpu_power_limits, "--gpu-power-limits"
            )
    if flags.gpu_clocks is not None:
        choices["gpu_max_clock_mhz"] = parse_numbers(flags.gpu_clocks, "--gpu-clocks", integer=True)
    if flags.gpu_memory_clocks is not None:
        choices["gpu_memory_clock_mhz"] = parse_numbers(
            flags.gpu_memory_clocks, "--gpu-memory-clocks", integer=True
        )
    if flags.cpu_max_freqs is not None:
        choices["cpu_max_freq_khz"] = parse_frequencies_khz(flags.cpu_max_freqs)
    if flags.governors is not None:
        choices["cpu_governor"] = split_list(flags.governors, "--governors")
    if flags.epps is not None:
        choices["cpu_epp"] = split_list(flags.epps, "--epps")
    if flags.max_perf_pcts is not None:
        choices["cpu_max_perf_pct"] = parse_numbers(
            flags.max_perf_pcts, "--max-perf-pcts", integer=True
        )
    cpus = len(allowed_cpus())
    for key, text in (("threads", flags.threads), ("cores", flags.cores)):
        if text is None:
            continue
        if text.strip().lower() == "auto":
            choices[key] = power_of_two_counts(cpus)
        else:
            choices[key] = parse_numbers(text, f"--{key}", integer=True)
    return Chosen(grid(choices), gpus, notes)


def _gpu_ladder(knobset: KnobSet, gpus: list[int] | None) -> list[float]:
    knobs = select_knobs(knobset, "gpu_power_limit_w", gpus)
    bounds = _auto_range(knobs) if knobs else None
    if bounds is None:
        raise InputError(
            "--gpu-power-limits auto needs a GPU whose power-limit range NVML reports.",
            "Give the limits in watts, e.g. --gpu-power-limits 150,200,250.",
        )
    return ladder(bounds[0], bounds[1], AUTO_GPU_STEPS, GPU_STEP_W)


def _automatic(knobset: KnobSet, gpus: list[int] | None) -> Chosen:
    notes: list[str] = []
    gpu_knobs = select_knobs(knobset, "gpu_power_limit_w", gpus)
    ok, why = _usable(gpu_knobs)
    if ok:
        limits = _gpu_ladder(knobset, gpus)
        notes.append(
            f"no knob given: sweeping the GPU power limit {_join(limits, 'W')} (Zeus's knob)"
        )
        return Chosen(grid({"gpu_power_limit_w": limits}), gpus, notes)
    notes.append(f"GPU power limit not swept: {why}")
    freq = knobset.with_key("cpu_max_freq_khz")
    ok, why = _usable(freq)
    if ok:
        bounds = _auto_range(freq)
        if bounds is not None:
            steps = ladder(bounds[0], bounds[1], AUTO_CPU_STEPS, 100_000)
            values = [int(v) for v in steps]
            notes.append(f"no knob given: sweeping the CPU max frequency ({len(values)} steps)")
            return Chosen(grid({"cpu_max_freq_khz": values}), gpus, notes)
    notes.append(f"CPU frequency not swept: {why}")
    counts = power_of_two_counts(len(allowed_cpus()))
    notes.append(
        f"no knob given: sweeping the job's threads {_join(counts, '')} (works everywhere)"
    )
    return Chosen(grid({"threads": counts}), gpus, notes)


def _join(values: list[Any], unit: str) -> str:
    shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
    return f"{shown} {unit}".strip()
