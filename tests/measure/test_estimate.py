from collections import namedtuple

import pytest

from vatio.devices.catalog import match_cpu, normalise
from vatio.devices.estimate import CpuPowerModel, CpuTdpEstimator, MemoryEstimator, build_cpu_model

Times = namedtuple("Times", "user nice system idle iowait")


class ScriptedTimes:
    """psutil.cpu_times() stand-in: busy and idle seconds advance as scripted."""

    def __init__(self):
        self.busy = 0.0
        self.idle = 0.0

    def __call__(self):
        return Times(self.busy, 0.0, 0.0, self.idle, 0.0)


def test_cpu_estimate_matches_hand_calculation():
    times = ScriptedTimes()
    sensor = CpuTdpEstimator(CpuPowerModel(100.0, ("test",)), cpu_times=times)
    sensor.start(0.0)
    # 10 s at 25 % utilisation: 2 CPUs -> 20 CPU-seconds, 5 busy.
    times.busy, times.idle = 5.0, 15.0
    reading = sensor.read(10.0)
    assert reading.energy_j == pytest.approx(100.0 * 0.25 * 10)  # 250 J
    assert reading.low_j == pytest.approx(0.5 * 250)
    assert reading.high_j == pytest.approx(100.0 * (0.3 + 0.7 * 0.25) * 10)  # 475 J
    # then 10 s fully busy
    times.busy += 20.0
    reading = sensor.read(20.0)
    assert reading.energy_j == pytest.approx(250 + 1000)
    assert sensor.method == "estimated:tdp"


def test_memory_estimate_trapezoid_hand_calculation():
    used = iter([4e9, 8e9])
    sensor = MemoryEstimator(w_per_gb=0.3725, used_bytes=lambda: next(used))
    sensor.start(0.0)
    reading = sensor.read(100.0)
    # mean of 4 GB and 8 GB = 6 GB, x 0.3725 W/GB x 100 s
    assert reading.energy_j == pytest.approx(6 * 0.3725 * 100)
    assert reading.low_j < reading.energy_j < reading.high_j


def test_unknown_cpu_uses_stated_default():
    model = build_cpu_model(model_name="Intel(R) Xeon(R) Processor", logical_cpus=2)
    assert model.tdp_w == 24.0
    assert "not in the TDP tables" in model.assumptions[0]


def test_known_cpu_is_shared_by_visible_cores():
    model = build_cpu_model(
        model_name="Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", logical_cpus=4, cpuinfo_path="/x"
    )
    # 150 W / 20 cores x 4 visible CPUs
    assert model.tdp_w == pytest.approx(30.0)
    assert "Xeon Gold 6248" in model.assumptions[0]


def test_profile_override_wins():
    assert build_cpu_model(model_name="whatever", tdp_override_w=65).tdp_w == 65


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("AMD EPYC 7763 64-Core Processor", "AMD EPYC 7763"),
        ("Intel(R) Core(TM) i7-8565U CPU @ 1.80GHz", "Intel Core i7-8565U"),
        ("Intel(R) Xeon(R) CPU E5-2670 v2 @ 2.50GHz", "Xeon E5-2670 v2"),
    ],
)
def test_fuzzy_cpu_match(name, expected):
    match = match_cpu(name)
    assert match is not None and match.model == expected


def test_no_match_across_model_numbers():
    assert match_cpu("Intel Xeon Gold 9999") is None
    assert normalise("Intel(R) Xeon(R) Processor") == "xeon"
