"""The selection rule against a brute-force reference written apart from it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vatio.power.choice import Row, Sample, decide, pareto_front, zeus_cost


def brute_force(points, max_slowdown, eta, max_power):
    """Every setting tried; the best by the rule, written without decide()'s code."""
    base_time = points[0][1]
    allowed = [
        i
        for i, (_, t) in enumerate(points)
        if max_slowdown is None or t <= base_time * (1 + max_slowdown) * (1 + 1e-12)
    ]
    # equal scores: keep the default (nothing to change), else the faster, else the first
    if eta is None:
        score = {i: (points[i][0], i > 0, points[i][1], i) for i in allowed}
    else:
        score = {
            i: (eta * points[i][0] + (1 - eta) * max_power * points[i][1], i > 0, points[i][1], i)
            for i in allowed
        }
    return min(allowed, key=lambda i: score[i])


def rows_of(points, repeats=1):
    rows = []
    for index, (energy, time_s) in enumerate(points):
        row = Row(f"s{index}", {})
        row.samples = [Sample(energy * 10, energy * 10, energy * 10, time_s * 10, 10)] * repeats
        rows.append(row)
    return rows


points_strategy = st.lists(
    st.tuples(st.integers(1, 10_000), st.integers(1, 10_000)), min_size=1, max_size=8
).map(lambda pts: [(e / 100, t / 1000) for e, t in pts])


@settings(max_examples=300, deadline=None)
@given(
    points=points_strategy,
    max_slowdown=st.one_of(st.none(), st.sampled_from([0.0, 0.05, 0.1, 0.25, 1.0])),
    eta=st.one_of(st.none(), st.floats(0, 1)),
)
def test_choice_equals_brute_force(points, max_slowdown, eta):
    rows = rows_of(points)
    choice = decide(rows, max_slowdown=max_slowdown, eta=eta, max_power_w=300.0)
    assert choice.index == brute_force(points, max_slowdown, eta, 300.0)
    assert rows[0].slowdown == 0 and rows[choice.index].feasible


@settings(max_examples=200, deadline=None)
@given(points=points_strategy)
def test_pareto_front_is_exactly_the_undominated(points):
    flags = pareto_front(points)
    for (i, p), flag in zip(enumerate(points), flags, strict=True):
        beaten = any(
            q[0] <= p[0] and q[1] <= p[1] and q != p for j, q in enumerate(points) if j != i
        )
        assert flag == (not beaten)
    assert any(flags)


def test_the_choice_is_on_the_front_without_a_bound():
    points = [(10.0, 1.0), (8.0, 1.05), (9.0, 1.2), (6.0, 2.0)]
    rows = rows_of(points)
    choice = decide(rows, max_slowdown=None)
    assert choice.index == 3 and rows[3].pareto and not rows[2].pareto


def test_median_of_repeats_and_noise_note():
    rows = [Row("default", {}), Row("b", {})]
    rows[0].samples = [Sample(e, e, e, 1.0, 1) for e in (10.0, 10.4, 9.6)]
    rows[1].samples = [Sample(e, e, e, 1.0, 1) for e in (9.0, 12.0, 9.5)]
    choice = decide(rows, max_slowdown=0.1)
    assert rows[0].energy_per_unit_j == 10.0 and rows[1].energy_per_unit_j == 9.5
    assert choice.index == 1 and "within the noise" in choice.notes[0]


def test_unmeasured_default_means_no_choice():
    rows = [Row("default", {}), Row("b", {})]
    rows[1].samples = [Sample(1.0, 1.0, 1.0, 1.0, 1)]
    assert decide(rows, max_slowdown=0.1).index is None


def test_zeus_cost_matches_the_paper():
    # η·E + (1−η)·MAXPOWER·T: η = 1 is energy only, η = 0 is time only
    assert zeus_cost(100.0, 2.0, 1.0, 300.0) == 100.0
    assert zeus_cost(100.0, 2.0, 0.0, 300.0) == 600.0
