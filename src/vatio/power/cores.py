"""Job knobs that work everywhere, VMs and containers included: intra-op threads and cores.

They change only the job vatio starts, never the machine: the thread count
through the usual environment variables (read by PyTorch, OpenMP, MKL and
OpenBLAS when they start) or, inside a running job, through
`vatio.power.step()`; the cores through CPU affinity of every thread of the
job's process tree. Nothing outlives the job, so nothing needs restoring.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from vatio.power.common import JOB, Knob, KnobUnavailable

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
TOPOLOGY_ROOT = Path("/sys/devices/system/cpu")


def allowed_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def pick_cpus(count: int, cpus: list[int] | None = None, root: Path = TOPOLOGY_ROOT) -> list[int]:
    """`count` CPUs from the allowed ones, one hardware thread per physical core first.

    Two hyperthreads of one core share its execution units, so two cores are
    worth more than two threads of one core.
    """
    cpus = sorted(cpus if cpus is not None else allowed_cpus())
    rank: dict[int, tuple[int, int]] = {}
    seen: dict[str, int] = {}
    for cpu in cpus:
        siblings = _siblings(root, cpu)
        order = seen.get(siblings, 0)
        seen[siblings] = order + 1
        rank[cpu] = (order, cpu)
    return sorted(cpus, key=lambda c: rank[c])[:count]


def _siblings(root: Path, cpu: int) -> str:
    path = root / f"cpu{cpu}" / "topology" / "thread_siblings_list"
    try:
        return path.read_text().strip()
    except OSError:
        return str(cpu)


def thread_env(threads: int | None, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    if threads is not None:
        for name in THREAD_VARIABLES:
            env[name] = str(threads)
    return env


def set_affinity(pids: list[int], cpus: list[int]) -> int:
    """Pin every thread of `pids` to `cpus`; returns the number of threads changed.

    sched_setaffinity acts on one thread, and running thread pools keep their own
    mask, so each task of each process is set.
    """
    changed = 0
    for pid in pids:
        task_dir = Path(f"/proc/{pid}/task")
        tids = [int(t.name) for t in task_dir.iterdir()] if task_dir.is_dir() else [pid]
        for tid in tids:
            with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
                os.sched_setaffinity(tid, cpus)
                changed += 1
    return changed


class ThreadsKnob(Knob):
    """Intra-op threads of the job (torch.set_num_threads, OMP_NUM_THREADS...)."""

    key = "threads"
    target = "job"
    label = "Job intra-op threads"
    unit = "threads"
    scope = JOB

    def __init__(self) -> None:
        self.value: int | None = None

    def read(self) -> int | None:
        return self.value

    def write(self, value: Any) -> None:
        self.value = None if value is None else int(value)

    def allowed(self) -> dict[str, Any]:
        return {"min": 1, "max": 4 * len(allowed_cpus())}

    def check_value(self, value: Any) -> Any:
        return super().check_value(int(value))

    def notes(self) -> list[str]:
        return [
            f"unset: the job's libraries choose (PyTorch uses the physical cores; "
            f"{len(allowed_cpus())} CPUs are allowed here)"
        ]


class CoresKnob(Knob):
    """How many CPUs the job may run on (CPU affinity)."""

    key = "cores"
    target = "job"
    label = "Job CPU cores (affinity)"
    unit = "CPUs"
    scope = JOB

    def __init__(self) -> None:
        self.value: int | None = None

    def read(self) -> int | None:
        if not hasattr(os, "sched_setaffinity"):
            raise KnobUnavailable(
                "CPU affinity is not available on this operating system.",
                "Linux only (macOS has no affinity call); use the threads knob instead.",
            )
        return self.value

    def write(self, value: Any) -> None:
        self.value = None if value is None else int(value)

    def allowed(self) -> dict[str, Any]:
        return {"min": 1, "max": len(allowed_cpus())}

    def check_value(self, value: Any) -> Any:
        return super().check_value(int(value))

    def notes(self) -> list[str]:
        return [f"unset: all {len(allowed_cpus())} allowed CPUs ({_ranges(allowed_cpus())})"]


def _ranges(cpus: list[int]) -> str:
    parts, start = [], None
    for i, cpu in enumerate(cpus):
        if start is None:
            start = cpu
        if i + 1 == len(cpus) or cpus[i + 1] != cpu + 1:
            parts.append(str(start) if start == cpu else f"{start}-{cpu}")
            start = None
    return ",".join(parts)


def discover_job_knobs() -> list[Knob]:
    return [ThreadsKnob(), CoresKnob()]
