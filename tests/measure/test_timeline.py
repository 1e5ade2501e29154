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
