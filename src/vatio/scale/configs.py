"""The configurations a scaling study runs, and the checks made before any of them.

A configuration is one point of the sweep: workers per node (DDP through
torchrun), intra-op threads, or an inference batch size. Its `resources` is
the N of the efficiency formula: nodes × workers × threads.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from vatio.errors import InputError

MODES = ("workers", "threads", "batch")


@dataclass(frozen=True)
class Nodes:
    """torchrun's multi-node settings, passed through unchanged."""

    nnodes: int = 1
    node_rank: int = 0
    rdzv_endpoint: str | None = None
    rdzv_backend: str | None = None
    rdzv_id: str | None = None

    @property
    def multi(self) -> bool:
        return self.nnodes > 1


@dataclass(frozen=True)
class Config:
    """One point of a sweep."""

    mode: str
    workers: int = 1
    threads: int | None = None
    batch_size: int | None = None
    nnodes: int = 1
    no_sync: bool = False

    @property
    def resources(self) -> int:
        return self.nnodes * self.workers * (self.threads or 1)

    @property
    def world_size(self) -> int:
        return self.nnodes * self.workers

    @property
    def key(self) -> str:
        """A stable name for files and for matching the same configuration across nodes."""
        parts = [f"w{self.workers}"]
        if self.threads:
            parts.append(f"t{self.threads}")
        if self.batch_size:
            parts.append(f"b{self.batch_size}")
        if self.nnodes > 1:
            parts.append(f"n{self.nnodes}")
        if self.no_sync:
            parts.append("nosync")
        return "-".join(parts)

    @property
    def label(self) -> str:
        if self.mode == "batch":
            text = f"batch {self.batch_size}"
            return f"{text}, {self.threads} threads" if self.threads else text
        if self.mode == "threads" and self.workers == 1 and self.nnodes == 1:
            text = _plural(self.threads or 1, "thread")
        else:
            text = _plural(self.workers, "worker")
            if self.nnodes > 1:
                text = f"{self.nnodes} nodes × {text}"
            if self.threads:
                text += f" × {_plural(self.threads, 'thread')}"
        return text + (" (no_sync check)" if self.no_sync else "")

    def to_dict(self) -> dict[str, Any]:
        extra = {"key": self.key, "label": self.label, "resources": self.resources}
        return asdict(self) | extra | {"world_size": self.world_size}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def parse_counts(text: str | None, what: str) -> list[int]:
    """Sorted distinct positive integers from '1,2,4'."""
    if text is None:
        return []
    values = set()
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = int(part)
        except ValueError:
            raise InputError(
                f"Cannot read {what} {text!r}: {part!r} is not a whole number.",
                f"Give a comma-separated list, e.g. {what} 1,2,4.",
            ) from None
        if value < 1:
            raise InputError(f"{what} must be 1 or more; got {value}.")
        values.add(value)
    if not values:
        raise InputError(f"{what} is empty.", f"Give a comma-separated list, e.g. {what} 1,2,4.")
    return sorted(values)


def plan(
    workers: list[int],
    threads: list[int],
    batch_sizes: list[int],
    nodes: Nodes,
    no_sync_check: bool = False,
) -> tuple[str, list[Config]]:
    """The mode and the configurations in run order (smallest first: it is the baseline)."""
    workers, threads, batch_sizes = sorted(workers), sorted(threads), sorted(batch_sizes)
    if batch_sizes:
        if workers:
            raise InputError(
                "--batch-sizes is an inference sweep in one process; it cannot take --workers.",
                "Run the worker sweep and the batch sweep as two studies.",
            )
        grid = [
            Config("batch", threads=t, batch_size=b) for t in threads or [None] for b in batch_sizes
        ]  # type: ignore[list-item]
        return "batch", grid
    if workers:
        configs = [
            Config("workers", workers=w, threads=t, nnodes=nodes.nnodes)
            for w in workers
            for t in threads or [None]  # type: ignore[list-item]
        ]
        configs.sort(key=lambda c: (c.resources, c.workers))
        if no_sync_check:
            configs += [
                Config(c.mode, c.workers, c.threads, None, c.nnodes, no_sync=True)
                for c in configs
                if c.world_size > 1
            ]
        return "workers", configs
    if threads:
        if nodes.multi:
            raise InputError("A thread sweep runs one process; --nnodes needs --workers.")
        return "threads", [Config("threads", threads=t) for t in threads]
    raise InputError(
        "Nothing to sweep.",
        "Give --workers 1,2 (DDP), --threads 1,2 or --batch-sizes 1,8,64 (inference).",
    )


def visible_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def oversubscription_warnings(
    configs: list[Config], cores: int, gpus: int = 0, on_gpu: bool = False
) -> list[str]:
    """Configurations that ask for more cores (or GPUs) than this node has."""
    warnings = []
    for config in configs:
        if config.no_sync:
            continue
        if on_gpu and config.mode == "workers":
            if config.workers > gpus:
                warnings.append(
                    f"{config.label}: {config.workers} workers per node but {gpus} GPU(s) here; "
                    "workers will share GPUs and the results will be distorted."
                )
            continue
        per_node = config.workers * (config.threads or 1)
        if per_node > cores:
            warnings.append(
                f"{config.label}: {per_node} threads in all on a node with {cores} cores; "
                "they will share cores and the results will be distorted."
            )
    return warnings
