"""best_window and cheapest_slots: hand-calculated cases and brute force on random series."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vatio.carbon.intensity import IntensitySeries
from vatio.errors import InputError
from vatio.schedule import best_window, cheapest_slots

T0 = datetime(2026, 11, 26, tzinfo=UTC)
H = 3600.0


def series(values, step_s: float = H) -> IntensitySeries:
    values = np.asarray(values, dtype=float)
    times = T0.timestamp() + step_s * np.arange(len(values))
    return IntensitySeries("XX", times, values, step_s, "test series")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_best_window_hand_case_with_saving_and_energy():
    window = best_window(series([10, 2, 2, 10]), 1.5 * H, energy_kwh=12)
    assert window.start == at(1) and window.end == at(2.5)
    assert window.mean_intensity == pytest.approx(2.0)
    assert window.now_intensity == pytest.approx((10 + 2 * 0.5) / 1.5)
    assert window.savings_pct == pytest.approx(100 * (11 / 1.5 - 2) / (11 / 1.5))
    assert window.gco2e == pytest.approx(24.0)
    assert window.to_dict()["gco2e_saved"] == pytest.approx(12 * 11 / 1.5 - 24)


def test_non_divisible_duration_starts_between_steps():
    # mean(s) for s in [0, 1.5] h: 2.67 at 0, 1.33 at 0.5 (end hits the 2 h boundary), 5.33 at 1.5.
    window = best_window(series([4, 0, 8]), 1.5 * H)
    assert window.start == at(0.5)
    assert window.mean_intensity == pytest.approx(2 / 1.5)


def test_ties_go_to_the_earliest_start():
    assert best_window(series([5, 1, 1, 1, 5]), H).start == at(1)
    assert best_window(series([5, 1, 1, 1, 5]), 2 * H).start == at(1)
    assert best_window(series([3, 3, 3, 3]), 1.5 * H, at(0.25)).start == at(0.25)


def test_earliest_and_deadline_bound_the_search():
    values = [1, 9, 9, 9, 9, 1]
    window = best_window(series(values), H, at(1), at(5))
    assert window.start == at(1) and window.mean_intensity == pytest.approx(9)
    window = best_window(series(values), H, at(1), at(6))
    assert window.start == at(5)


def test_deadline_beyond_horizon_is_clipped():
    window = best_window(series([5, 1, 5]), H, at(0), at(48))
    assert window.deadline == at(3) and window.start == at(1)


def test_deadline_before_earliest_plus_duration_is_an_error():
    with pytest.raises(InputError, match=r"deadline .* earlier than the earliest start"):
        best_window(series([1, 2, 3, 4]), 3 * H, at(0), at(2))


def test_duration_longer_than_horizon_is_an_error():
    with pytest.raises(InputError, match="does not fit in the forecast horizon"):
        best_window(series([1, 2, 3, 4]), 5 * H)
    with pytest.raises(InputError, match="horizon"):
        best_window(series([1, 2, 3, 4]), H, at(10), at(20))
    with pytest.raises(InputError, match="positive"):
        best_window(series([1, 2]), 0)


def brute_force_means(s: IntensitySeries, duration: float, lo: float, hi: float):
    edges = np.append(s.times_s, s.end_s)
    grid = np.linspace(lo, hi - duration, 301)
    breaks = np.concatenate((edges, edges - duration))
    breaks = breaks[(breaks >= lo) & (breaks <= hi - duration)]
    starts = np.unique(np.concatenate((grid, breaks)))
    return starts, np.array([s.mean_between(x, x + duration) for x in starts])


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.integers(0, 1000), min_size=1, max_size=25),
    step_min=st.sampled_from([15, 30, 60, 90]),
    data=st.data(),
)
def test_best_window_matches_brute_force(values, step_min, data):
    step = 60.0 * step_min
    s = series(values, step)
    horizon = len(values) * step
    duration = 60.0 * data.draw(st.integers(1, int(horizon // 60)))
    lo_off = 60.0 * data.draw(st.integers(0, int((horizon - duration) // 60)))
    hi_off = 60.0 * data.draw(st.integers(int((lo_off + duration) // 60), int(horizon // 60)))
    lo, hi = s.times_s[0] + lo_off, s.times_s[0] + max(hi_off, lo_off + duration)
    window = best_window(
        s, duration, datetime.fromtimestamp(lo, UTC), datetime.fromtimestamp(hi, UTC)
    )
    starts, means = brute_force_means(s, duration, lo, hi)
    tol = 1e-6 * max(1.0, max(values))
    assert window.mean_intensity == pytest.approx(means.min(), abs=tol)
    start = window.start.timestamp()
    assert lo - 1e-6 <= start <= hi - duration + 1e-6
    assert s.mean_between(start, start + duration) == pytest.approx(window.mean_intensity, abs=tol)
    # no clearly earlier start reaches the minimum (ties go to the earliest start)
    assert not np.any((starts < start - 1.0) & (means <= means.min() + tol / 10))


def test_cheapest_slots_hand_cases():
    s = series([9, 1, 9, 1, 9, 1])
    plan = cheapest_slots(s, 3 * H, min_chunk_s=H, energy_kwh=3)
    assert plan.chunks == ((at(1), at(2)), (at(3), at(4)), (at(5), at(6)))
    assert plan.mean_intensity == pytest.approx(1) and plan.gco2e == pytest.approx(3)
    assert plan.now_intensity == pytest.approx(19 / 3)
    assert plan.active_at(at(1.5)) and not plan.active_at(at(2.5))
    assert not plan.active_at(at(0.5)) and not plan.active_at(at(6.5))
    plan = cheapest_slots(s, 3 * H, min_chunk_s=2 * H)
    assert plan.chunks == ((at(1), at(4)),) and plan.mean_intensity == pytest.approx(11 / 3)
    plan = cheapest_slots(s, 2 * H, min_chunk_s=30 * 60)
    assert plan.duration_s == 2 * H and plan.mean_intensity == pytest.approx(1)


def test_cheapest_slots_half_hour_chunks_and_errors():
    s = series([9, 1, 1, 9])
    plan = cheapest_slots(s, 1.5 * H, min_chunk_s=1800)
    assert plan.chunks == ((at(1), at(2.5)),) and plan.resolution_s == 1800
    with pytest.raises(InputError, match="deadline"):
        cheapest_slots(s, 3 * H, at(0), at(2))
    with pytest.raises(InputError, match="horizon"):
        cheapest_slots(s, 5 * H)


def brute_force_slots(costs: list[int], k: int, m: int) -> float:
    best = float("inf")
    for chosen in itertools.combinations(range(len(costs)), k):
        runs, run = [], 1
        for a, b in itertools.pairwise(chosen):
            if b == a + 1:
                run += 1
            else:
                runs.append(run)
                run = 1
        runs.append(run)
        if min(runs) >= m:
            best = min(best, sum(costs[i] for i in chosen))
    return best


@settings(max_examples=120, deadline=None)
@given(
    values=st.lists(st.integers(0, 100), min_size=1, max_size=6),
    halves=st.booleans(),
    data=st.data(),
)
def test_cheapest_slots_matches_brute_force(values, halves, data):
    per_hour = 2 if halves else 1  # half-hour durations and chunks on hourly data
    costs = [v for v in values for _ in range(per_hour)]
    k = data.draw(st.integers(1, len(costs)))
    m = data.draw(st.integers(1, k))
    unit = H / per_hour
    plan = cheapest_slots(series(values), k * unit, min_chunk_s=m * unit)
    assert plan.duration_s == k * unit
    assert all((b - a).total_seconds() >= m * unit for a, b in plan.chunks)
    assert plan.mean_intensity * k == pytest.approx(brute_force_slots(costs, k, m))


def test_cheapest_slots_off_grid_earliest_and_coarse_fallback():
    plan = cheapest_slots(series([9, 1, 1, 9]), 1.5 * H, at(0.5), None, 1 * H)
    assert plan.mean_intensity == pytest.approx(1) and plan.resolution_s == 1800
    year = series(np.tile([5.0, 1, 1, 5, 5, 5], 24 * 60))
    plan = cheapest_slots(year, 7 * H, T0 + timedelta(minutes=1), None, 3 * H)
    assert plan.resolution_s == 3600  # the 1-minute grid would be too big for the DP
    assert plan.duration_s == 7 * H and all((b - a) >= timedelta(hours=3) for a, b in plan.chunks)
    contiguous = best_window(year, 7 * H, T0 + timedelta(minutes=1))
    assert plan.mean_intensity <= contiguous.mean_intensity + 1e-9
