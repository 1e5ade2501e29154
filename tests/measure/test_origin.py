"""Spawn first, measure from then: the origin instant and the exact CPU time of a short job."""

from __future__ import annotations

import sys
import time

import psutil
import pytest

from tests.fakes.powercap import FakePowercap
from tests.measure.fakes import ConstantPowerSensor
from vatio.devices.estimate import _busy_and_total
from vatio.measure.origin import _proc_stat, take_origin
from vatio.measure.sampler import CHILD_LATER
from vatio.measure.tracker import Tracker
from vatio.process import spawn, supervise


def test_origin_sums_cpu_time_exactly_as_the_estimate_does():
    busy, total = _proc_stat()
    p_busy, p_total = _busy_and_total(psutil.cpu_times())
    assert total == pytest.approx(p_total, abs=0.5) and busy == pytest.approx(p_busy, abs=0.5)


def test_a_sensor_that_cannot_read_back_starts_late_and_says_so():
    origin = take_origin()
    time.sleep(0.05)
    tracker = Tracker(sensors=[ConstantPowerSensor()], pid=CHILD_LATER)
    tracker.start(origin)
    result = tracker.stop()
    assert result.started_at and result.sampler["late_start_s"]["cpu:fake"] >= 0.05
    assert result.duration_s >= 0.05  # the run counts from the origin, not from start()


def test_rapl_counts_from_the_origin(tmp_path):
    fake = FakePowercap(tmp_path)
    package = fake.add_package(0, energy_uj=1_000_000)
    origin = take_origin(str(fake.root))
    fake.advance(package, 2_000_000)  # energy used between the origin and the tracker's start
    from vatio.devices.rapl import discover_rapl

    found = discover_rapl(fake.root)
    tracker = Tracker(sensors=found.sensors, pid=CHILD_LATER)
    tracker.start(origin)
    result = tracker.stop()
    assert result.devices[0].energy_j == pytest.approx(2.0)
    assert result.sampler["late_start_s"] == {}


def test_a_job_too_short_for_any_sample_still_gets_its_cpu_time():
    origin = take_origin()
    started = spawn([sys.executable, "-c", "import time\nwhile time.process_time() < 0.2: pass"])
    tracker = Tracker(pid=CHILD_LATER, interval_s=30)
    tracker.start(origin)
    tracker.attach(started.pid)
    outcome = supervise([], spawned=started)
    assert outcome.cpu_s is not None and outcome.cpu_s >= 0.2
    tracker.sampler.settle_tree(outcome.cpu_s)
    result = tracker.stop()
    cpu = next(d for d in result.devices if d.device == "cpu")
    assert cpu.process_energy_j > 0  # not the 0 a job that exits between samples used to get
