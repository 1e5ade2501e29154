"""Every knob on this machine, and the knob a restore-file entry names (in a new process)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vatio.power.common import JOB, MACHINE, Knob


@dataclass
class KnobSet:
    """The knobs found, notes on what is missing, and the NVML session to close."""

    knobs: list[Knob] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sessions: list[Any] = field(default_factory=list)

    def by_ident(self) -> dict[str, Knob]:
        return {k.ident: k for k in self.knobs}

    def with_key(self, key: str) -> list[Knob]:
        return [k for k in self.knobs if k.key == key]

    def machine(self) -> list[Knob]:
        return [k for k in self.knobs if k.scope == MACHINE]

    def job(self) -> list[Knob]:
        return [k for k in self.knobs if k.scope == JOB]

    def close(self) -> None:
        for session in self.sessions:
            session.close()
        self.sessions.clear()

    def __enter__(self) -> KnobSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def discover_knobs(
    *,
    nvml: Any = None,
    cpufreq_root: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    use_nvml: bool = True,
) -> KnobSet:
    from vatio.power.cores import discover_job_knobs
    from vatio.power.cpufreq import discover_cpu_knobs

    found = KnobSet()
    if use_nvml:
        from vatio.power.nvidia import discover_gpu_knobs

        gpu, notes, session = discover_gpu_knobs(nvml, env)
        found.knobs += gpu
        found.notes += notes
        if session is not None:
            found.sessions.append(session)
    cpu, notes = discover_cpu_knobs(cpufreq_root)
    found.knobs += cpu
    found.notes += notes
    found.knobs += discover_job_knobs()
    return found


def knob_for_entry(entry: Mapping[str, Any], nvml: Any = None) -> tuple[Knob, Any]:
    """(knob, session or None) for a restore-file entry."""
    target, key, backend = entry["target"], entry["key"], entry.get("backend") or {}
    if target.startswith("gpu:"):
        from vatio.power.nvidia import gpu_knob

        return gpu_knob(key, backend, nvml)
    if target == "cpu":
        from vatio.power.cpufreq import cpu_knob

        return cpu_knob(key, backend), None
    raise ValueError(f"no restorable knob {target}/{key}")
