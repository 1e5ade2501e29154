import functools

from hypothesis import given
from hypothesis import strategies as st

from vatio.measure.timeline import Timeline


def test_interval_across_an_hour_boundary_is_split_by_time():
    timeline = Timeline(["cpu"])
    # 3590 s .. 3610 s: half before the hour, half after.
    timeline.add(3590.0, 3610.0, [(20.0, 10.0, 30.0)], [5.0])
    assert timeline.hours[0].energy["cpu"] == [10.0, 5.0, 15.0, 2.5]
    assert timeline.hours[3600].energy["cpu"] == [10.0, 5.0, 15.0, 2.5]


@given(st.lists(st.floats(min_value=0, max_value=1e4), min_size=1, max_size=300))
def test_halving_keeps_every_joule(values):
    timeline = Timeline(["cpu"], max_points=8)
    for i, joules in enumerate(values):
        timeline.add(float(i), float(i + 1), [(joules, joules, joules)], [joules / 2])
    assert len(timeline.t0) <= 8
    assert abs(sum(timeline.joules[0]) - sum(values)) <= 1e-6 * max(1.0, sum(values))
    assert timeline.t0[0] == 0.0
    assert timeline.t1[-1] == float(len(values))
    hourly = sum(b.energy["cpu"][0] for b in timeline.hours.values())
    assert abs(hourly - sum(values)) <= 1e-6 * max(1.0, sum(values))


def test_power_is_energy_over_interval():
    timeline = Timeline(["gpu"])
    timeline.add(0.0, 2.0, [(100.0, 100.0, 100.0)], [50.0])
    data = timeline.to_dict()
    assert data["power_w"]["gpu"] == [50.0]
    assert data["process_power_w"] == [25.0]


@functools.cache
def _run_24h(max_points: int = 2048) -> tuple[Timeline, tuple[float, ...]]:
    """86,400 one-second ticks of a job whose power changes over the day (integer joules,
    so that every sum is exact in floating point): 100 W, then 300 W from hour 8, 50 W from
    hour 16, with a 1,000 W spike every 10 minutes."""
    timeline = Timeline(["cpu"], max_points=max_points)
    powers = []
    for i in range(86_400):
        watts = 100.0 if i < 8 * 3600 else 300.0 if i < 16 * 3600 else 50.0
        watts = 1000.0 if i % 600 == 0 else watts
        powers.append(watts)
        timeline.add(float(i), float(i + 1), [(watts, watts - 1, watts + 1)], [watts / 2])
    return timeline, tuple(powers)


def test_thinning_keeps_the_resolution_even_over_a_24_hour_run():
    thin, powers = _run_24h()
    widths = [b - a for a, b in zip(thin.t0, thin.t1, strict=True)]
    assert len(widths) <= 2048
    # every interval but the last (still growing when the run ended) has the same width
    assert max(widths[:-1]) / min(widths[:-1]) <= 2 and widths[-1] <= max(widths)
    assert max(widths) <= 128  # not one interval of 21 hours (75,776 s before the fix)
    assert thin.t0[0] == 0.0 and thin.t1[-1] == 86_400.0
    assert all(b == a for a, b in zip(thin.t1, thin.t0[1:], strict=False))  # contiguous
    # not one joule lost, exactly (integer joules); the hourly buckets hold every hour exactly
    assert sum(thin.joules[0]) == sum(powers) and sum(thin.process_joules) == sum(powers) / 2
    assert sorted(thin.hours) == [3600 * h for h in range(24)]
    for hour, bucket in thin.hours.items():
        joules = sum(powers[hour : hour + 3600])
        assert bucket.energy["cpu"] == [joules, joules - 3600, joules + 3600, joules / 2]


def test_the_report_plot_of_a_24_hour_run_looks_like_the_run():
    """Hour by hour, the report's power series has the run's real mean power."""
    from vatio.report.series import power_series

    thin, powers = _run_24h()
    series = power_series({"timeline": thin.to_dict()})
    t0, t1, watts = series["t0_s"], series["t1_s"], series["power_w"]["cpu"]
    assert len(t0) <= 410 and max(b - a for a, b in zip(t0, t1, strict=True)) <= 2 * 86_400 / 400
    for hour in range(24):
        lo, hi = hour * 3600, (hour + 1) * 3600
        inside = [(a, b, w) for a, b, w in zip(t0, t1, watts, strict=True) if lo <= a and b <= hi]
        shown = sum((b - a) * w for a, b, w in inside) / sum(b - a for a, b, _ in inside)
        true = sum(powers[lo:hi]) / 3600
        assert abs(shown - true) <= 0.05 * true, (hour, shown, true)
