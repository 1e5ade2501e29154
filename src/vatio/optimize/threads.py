"""Intra-op thread count: more threads cut latency but can cost more energy than they save.

The sweep reuses the chosen variant's artefact and only changes the runtime
setting, so the thread count goes into the recipe, not into a new file.
"""

from __future__ import annotations

import dataclasses
import os

from vatio.optimize.variant import Artefact


def visible_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def thread_counts(cpus: int | None = None) -> list[int]:
    """1, 2, 4, ... up to the visible CPUs, and the CPU count itself."""
    cpus = cpus or visible_cpus()
    counts = []
    n = 1
    while n < cpus:
        counts.append(n)
        n *= 2
    counts.append(cpus)
    return counts


def row_name(base: str, threads: int) -> str:
    return f"{base}@{threads}t"


def with_threads(artefact: Artefact, threads: int) -> Artefact:
    recipe = {**artefact.recipe, "intra_op_threads": threads}
    return dataclasses.replace(artefact, threads=threads, recipe=recipe)
