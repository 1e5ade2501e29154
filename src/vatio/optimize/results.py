"""What a study found, per variant and batch size, ready for the table, JSON and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from typing import Any

from vatio.optimize.variant import Artefact


@dataclass
class BatchStats:
    """Latency, throughput and energy of one variant at one batch size (medians of repeats)."""

    batch: int
    done: list[int] = field(default_factory=list)  # calls made in each repeat
    latencies_s: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    energy_j: list[float] = field(default_factory=list)  # per repeat, per 1,000 inferences
    low_j: list[float] = field(default_factory=list)
    high_j: list[float] = field(default_factory=list)
    machine_j: list[float] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.energy_j)

    def _q(self, q: float) -> float | None:
        if not self.latencies_s:
            return None
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    @property
    def p50_ms(self) -> float | None:
        return self._q(0.5)

    @property
    def p95_ms(self) -> float | None:
        return self._q(0.95)

    @property
    def throughput(self) -> float | None:
        """Inferences per second, median over repeats."""
        rates = [n * self.batch / w for n, w in zip(self.done, self.wall_s, strict=True) if w > 0]
        return median(rates) if rates else None

    @property
    def energy_per_1k(self) -> float | None:
        return median(self.energy_j) if self.energy_j else None

    def to_dict(self) -> dict[str, Any]:
        m = median
        return {
            "batch": self.batch,
            "error": self.error,
            "repeats": len(self.energy_j),
            "calls_per_repeat": self.done,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "throughput_per_s": self.throughput,
            "energy_per_1k_j": self.energy_per_1k,
            "energy_per_1k_low_j": m(self.low_j) if self.low_j else None,
            "energy_per_1k_high_j": m(self.high_j) if self.high_j else None,
            "energy_per_1k_repeat_min_j": min(self.energy_j) if self.energy_j else None,
            "energy_per_1k_repeat_max_j": max(self.energy_j) if self.energy_j else None,
            "machine_energy_per_1k_j": m(self.machine_j) if self.machine_j else None,
        }


@dataclass
class VariantResult:
    """One row of the table: a variant (or a thread setting of one) and its measurements."""

    name: str
    technique: str
    status: str = "ok"  # ok, failed, skipped
    reason: str | None = None
    metric: float | None = None
    delta_pts: float | None = None
    artefact: Artefact | None = None
    batches: dict[int, BatchStats] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    on_front: bool = False
    base: str | None = None  # for a thread-sweep row, the variant it tunes
    prepare_s: float | None = None
    opener: Any = None  # () -> Runner; a runner lives only while its variant is measured

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def energy(self, batch: int) -> float | None:
        stats = self.batches.get(batch)
        return stats.energy_per_1k if stats is not None and stats.ok else None

    def fail(self, reason: str) -> None:
        self.status, self.reason, self.opener = "failed", reason, None

    def to_dict(self) -> dict[str, Any]:
        art = self.artefact
        return {
            "name": self.name,
            "technique": self.technique,
            "status": self.status,
            "reason": self.reason,
            "metric": self.metric,
            "delta_pts": self.delta_pts,
            "size_bytes": art.size_bytes if art is not None else None,
            "runtime": art.runtime if art is not None else None,
            "threads": art.threads if art is not None else None,
            "recipe": art.recipe if art is not None else None,
            "base": self.base,
            "on_front": self.on_front,
            "notes": self.notes,
            "prepare_s": self.prepare_s,
            "batches": {str(b): s.to_dict() for b, s in sorted(self.batches.items())},
        }
