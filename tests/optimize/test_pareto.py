"""Pareto front on hand-made points, and the recommendation under an accuracy budget."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vatio.optimize.pareto import MIN_SAVING, dominates, pareto_front, recommend
from vatio.optimize.results import BatchStats, VariantResult

METHOD = "estimated:tdp"
score = st.floats(0, 1, allow_nan=False)
energy = st.floats(1e-6, 1e3, allow_nan=False)
points = st.lists(st.tuples(score, energy), max_size=25)
# few distinct values, so ties and duplicates are common
coarse = st.lists(st.tuples(st.sampled_from([0.5, 0.7, 0.9]), st.sampled_from([1.0, 2.0])))


def test_front_on_hand_made_points():
    pts = [(0.90, 10.0), (0.95, 20.0), (0.85, 5.0), (0.80, 6.0), (0.95, 25.0), (0.90, 10.0)]
    assert pareto_front(pts) == [0, 1, 2, 5]  # duplicates of a front point both stay


@given(st.one_of(points, coarse))
def test_front_points_are_undominated_and_the_rest_dominated(pts):
    front = set(pareto_front(pts))
    for i, p in enumerate(pts):
        beaten = any(dominates(q, p) for j, q in enumerate(pts) if j != i)
        assert beaten == (i not in front)


def _row(name, metric, energies, p50_s=0.001, base=None):
    row = VariantResult(name, name, metric=metric)
    stats = BatchStats(256, done=[10] * len(energies))
    stats.energy_j = list(energies)
    stats.low_j = [e / 2 for e in energies]
    stats.high_j = [e * 1.5 for e in energies]
    stats.wall_s = [0.1] * len(energies)
    stats.latencies_s = [p50_s] * 10
    row.batches[256] = stats
    row.base = base
    return row


def _deltas(rows):
    for row in rows:
        row.delta_pts = (rows[0].metric - row.metric) * 100


def test_recommends_least_energy_within_budget():
    rows = [
        _row("fp32-eager", 0.960, [1.0, 1.1, 0.9]),
        _row("ort-int8-static", 0.958, [0.3, 0.31, 0.29], p50_s=0.0004),
        _row("distilled", 0.940, [0.1, 0.1, 0.1]),  # 2 points lost: over budget
    ]
    _deltas(rows)
    rec = recommend(rows, "fp32-eager", 0.5, 256, METHOD)
    assert rec.name == "ort-int8-static"
    assert abs(rec.energy_ratio - 1.0 / 0.3) < 1e-9
    assert abs(rec.latency_ratio - 2.5) < 1e-9
    assert "within the 0.5-point budget" in rec.reason and METHOD in rec.reason
    assert recommend(rows, "fp32-eager", 2.5, 256, METHOD).name == "distilled"


def test_keeps_the_baseline_when_nothing_saves_enough():
    rows = [_row("fp32-eager", 0.9, [1.0]), _row("ort-fp32", 0.9, [1.0 - MIN_SAVING / 2])]
    _deltas(rows)
    rec = recommend(rows, "fp32-eager", 0.5, 256, METHOD)
    assert rec.name == "fp32-eager" and rec.reason.startswith("keep fp32-eager")


def test_failed_and_unmeasured_variants_are_never_recommended():
    rows = [_row("fp32-eager", 0.9, [1.0]), _row("ort-int8-static", 0.9, [0.1])]
    rows[1].fail("RuntimeError: boom")
    rows.append(VariantResult("pruned", "pruned", metric=0.9))  # no batch measured
    _deltas(rows)
    assert recommend(rows, "fp32-eager", 0.5, 256, METHOD).name == "fp32-eager"


def test_overlapping_repeats_are_called_noise():
    rows = [_row("fp32-eager", 0.9, [1.0, 0.5, 1.2]), _row("ort-fp32", 0.9, [0.6, 0.6, 0.6])]
    _deltas(rows)
    rec = recommend(rows, "fp32-eager", 0.5, 256, METHOD)
    assert rec.name == "ort-fp32" and "within measurement noise" in rec.reason


def test_reason_also_compares_with_the_baseline_at_its_best_thread_count():
    rows = [
        _row("fp32-eager", 0.9, [1.0]),
        _row("ort-fp32", 0.9, [0.1]),
        _row("fp32-eager@1t", 0.9, [0.4], base="fp32-eager"),
    ]
    _deltas(rows)
    rec = recommend(rows, "fp32-eager", 0.5, 256, METHOD)
    assert rec.name == "ort-fp32" and "4.0x less than the baseline at its best thread" in rec.reason
