"""From measurements to a choice: medians, slowdown, Pareto front, and the selection rule.

Rule (the issue's, and Zeus's MaxSlowdownConstraint made energy-optimal): among
the settings whose median time per unit is at most (1 + max_slowdown) × the
default's, the one with the least median energy per unit; on equal energy the
default is kept (nothing to change for nothing), else the faster wins. With
`eta`, Zeus's time-energy cost η·E + (1−η)·MAXPOWER·T (NSDI'23) is minimised
instead, restricted by the slowdown bound only when one is given. A unit is a
step (profiling inside one run) or a run (one run per setting).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Sample:
    """One measured window or run of one setting."""

    energy_j: float
    low_j: float
    high_j: float
    time_s: float
    units: float  # steps in the window, or 1 run
    samples: float = 0.0


@dataclass
class Row:
    """One setting's medians over its repeats, and how it compares with the default."""

    label: str
    setting: dict[str, Any]
    samples: list[Sample] = field(default_factory=list)
    energy_per_unit_j: float | None = None
    low_per_unit_j: float | None = None
    high_per_unit_j: float | None = None
    time_per_unit_s: float | None = None
    energy_per_sample_j: float | None = None
    power_w: float | None = None
    spread_j: tuple[float, float] | None = None  # min/max energy per unit over repeats
    slowdown: float | None = None
    saving: float | None = None
    feasible: bool = False
    pareto: bool = False
    cost: float | None = None
    missing: str | None = None
    run_ids: list[str] = field(default_factory=list)

    def summarise(self) -> None:
        done = [s for s in self.samples if s.units > 0 and s.time_s > 0]
        if not done:
            self.missing = self.missing or "not measured"
            return
        per_unit = [s.energy_j / s.units for s in done]
        self.energy_per_unit_j = statistics.median(per_unit)
        self.low_per_unit_j = statistics.median(s.low_j / s.units for s in done)
        self.high_per_unit_j = statistics.median(s.high_j / s.units for s in done)
        self.time_per_unit_s = statistics.median(s.time_s / s.units for s in done)
        self.power_w = statistics.median(s.energy_j / s.time_s for s in done)
        self.spread_j = (min(per_unit), max(per_unit))
        counted = [s for s in done if s.samples > 0]
        if counted:
            self.energy_per_sample_j = statistics.median(s.energy_j / s.samples for s in counted)

    @property
    def measured(self) -> bool:
        return self.energy_per_unit_j is not None


@dataclass
class Choice:
    index: int | None
    rule: str
    reason: str
    max_power_w: float | None = None
    max_power_source: str | None = None
    notes: list[str] = field(default_factory=list)


def pareto_front(points: list[tuple[float, float]]) -> list[bool]:
    """True for points no other point beats in both energy and time (and strictly in one)."""
    flags = []
    for i, (e, t) in enumerate(points):
        dominated = any(
            (e2 <= e and t2 <= t) and (e2 < e or t2 < t)
            for j, (e2, t2) in enumerate(points)
            if j != i
        )
        flags.append(not dominated)
    return flags


def zeus_cost(energy_j: float, time_s: float, eta: float, max_power_w: float) -> float:
    return eta * energy_j + (1 - eta) * max_power_w * time_s


def decide(
    rows: list[Row],
    *,
    max_slowdown: float | None,
    eta: float | None = None,
    max_power_w: float | None = None,
    max_power_source: str | None = None,
) -> Choice:
    """Fill slowdown, saving, feasibility, Pareto flags and costs; return the choice.

    rows[0] is the default setting. Without its measurement nothing is chosen.
    """
    for row in rows:
        row.summarise()
    base = rows[0]
    if not base.measured:
        return Choice(None, "none", "the default setting was not measured, so nothing compares")
    measured = [i for i, r in enumerate(rows) if r.measured]
    assert base.time_per_unit_s is not None and base.energy_per_unit_j is not None
    for row in rows:
        if not row.measured:
            continue
        assert row.time_per_unit_s is not None and row.energy_per_unit_j is not None
        row.slowdown = row.time_per_unit_s / base.time_per_unit_s - 1
        row.saving = (
            1 - row.energy_per_unit_j / base.energy_per_unit_j if base.energy_per_unit_j else None
        )
        row.feasible = max_slowdown is None or row.slowdown <= max_slowdown + 1e-12
    flags = pareto_front([(rows[i].energy_per_unit_j, rows[i].time_per_unit_s) for i in measured])  # type: ignore[misc]
    for i, flag in zip(measured, flags, strict=True):
        rows[i].pareto = flag
    candidates = [i for i in measured if rows[i].feasible]
    if eta is not None:
        if max_power_w is None:
            max_power_w = max(rows[i].power_w or 0.0 for i in measured)
            max_power_source = "the highest average power measured in this sweep"
        for i in measured:
            row = rows[i]
            row.cost = zeus_cost(row.energy_per_unit_j, row.time_per_unit_s, eta, max_power_w)  # type: ignore[arg-type]
        best = min(candidates, key=lambda i: (rows[i].cost, i != 0, rows[i].time_per_unit_s, i))
        bound = f" within {max_slowdown:.0%} slowdown" if max_slowdown is not None else ""
        return Choice(
            best,
            "zeus-cost",
            f"lowest Zeus cost η·E + (1−η)·MAXPOWER·T with η = {eta:g}, MAXPOWER = "
            f"{max_power_w:g} W ({max_power_source}){bound}",
            max_power_w,
            max_power_source,
        )
    best = min(
        candidates, key=lambda i: (rows[i].energy_per_unit_j, i != 0, rows[i].time_per_unit_s, i)
    )
    bound = "no slowdown bound" if max_slowdown is None else f"slowdown ≤ {max_slowdown:.0%}"
    choice = Choice(best, "min-energy", f"least energy per unit with {bound}")
    chosen = rows[best]
    overlap = (
        best != 0
        and chosen.spread_j is not None
        and base.spread_j is not None
        and len(chosen.samples) > 1
        and chosen.spread_j[1] >= base.spread_j[0]
    )
    if overlap:
        assert chosen.spread_j is not None and base.spread_j is not None
        choice.notes.append(
            f"{chosen.label}'s repeats overlap the default's "
            f"({chosen.spread_j[0]:.4g}–{chosen.spread_j[1]:.4g} vs "
            f"{base.spread_j[0]:.4g}–{base.spread_j[1]:.4g} J per unit): "
            "the saving is within the noise"
        )
    return choice
