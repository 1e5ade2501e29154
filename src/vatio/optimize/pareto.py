"""The accuracy-vs-energy Pareto front and the recommendation under an accuracy budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vatio.optimize.results import VariantResult

#: a variant must save at least this share of the baseline's energy to be worth deploying
MIN_SAVING = 0.05


def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """(metric, energy): a is at least as accurate and as cheap as b, and better in one."""
    return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point dominates (higher metric, lower energy)."""
    order = sorted(range(len(points)), key=lambda i: (points[i][1], -points[i][0]))
    front: list[int] = []
    best_metric = float("-inf")
    for i in order:
        metric, _ = points[i]
        same = [j for j in front if points[j] == points[i]]
        if metric > best_metric or same:
            front.append(i)
            best_metric = max(best_metric, metric)
    return sorted(front)


@dataclass
class Recommendation:
    name: str
    reason: str
    energy_ratio: float | None = None  # baseline energy / recommended energy
    latency_ratio: float | None = None  # baseline p50 / recommended p50
    throughput_ratio: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def recommend(
    rows: list[VariantResult],
    baseline: str,
    max_drop_pts: float,
    batch: int,
    method: str,
    metric_name: str = "accuracy",
) -> Recommendation:
    """The least energy per inference at `batch` among variants within the accuracy budget."""
    base = next(r for r in rows if r.name == baseline)
    base_energy = base.energy(batch)
    candidates = [
        r
        for r in rows
        if r.ok and r.energy(batch) is not None and (r.delta_pts or 0.0) <= max_drop_pts + 1e-9
    ]
    if base_energy is None or not candidates:
        return Recommendation(
            baseline, f"keep {baseline}: no variant could be compared at batch {batch}"
        )
    best = min(candidates, key=lambda r: r.energy(batch) or float("inf"))
    energy = best.energy(batch) or float("inf")
    ratio = base_energy / energy
    b_stats, r_stats = base.batches[batch], best.batches[batch]
    lat = (b_stats.p50_ms / r_stats.p50_ms) if b_stats.p50_ms and r_stats.p50_ms else None
    thr = (
        r_stats.throughput / b_stats.throughput
        if r_stats.throughput and b_stats.throughput
        else None
    )
    if best.name == baseline or ratio < 1 + MIN_SAVING:
        return Recommendation(
            baseline,
            f"keep {baseline}: no variant within the {max_drop_pts:g}-point budget spends "
            f"{MIN_SAVING:.0%} less energy per inference at batch {batch} ({method})",
            1.0,
            1.0,
            1.0,
        )
    within = len(candidates)
    overlap = min(b_stats.energy_j) <= max(r_stats.energy_j)
    parts = [
        f"lowest energy per 1,000 inferences at batch {batch} among the {within} variants "
        f"within the {max_drop_pts:g}-point budget: {ratio:.1f}x less than {baseline} "
        f"({method}, so the ratio follows CPU time)",
        f"{metric_name} {_signed(-(best.delta_pts or 0.0))} points",
    ]
    if lat:
        parts.append(f"p50 latency {lat:.1f}x {'lower' if lat >= 1 else 'higher'}")
    tuned = [r for r in rows if r.base == baseline and r.energy(batch) is not None]
    if tuned and best.base != baseline:
        fair = min(tuned, key=lambda r: r.energy(batch) or float("inf"))
        parts.append(
            f"{(fair.energy(batch) or 0.0) / energy:.1f}x less than the baseline at its best "
            f"thread count ({fair.name})"
        )
    if overlap:
        parts.append("repeats overlap with the baseline: the saving is within measurement noise")
    return Recommendation(best.name, "; ".join(parts), ratio, lat, thr)


def _signed(value: float) -> str:
    return f"{value:+.2f}".replace("-0.00", "+0.00")
