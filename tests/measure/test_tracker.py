import time

import pytest

from tests.measure.clock import ManualClock
from tests.measure.fakes import ConstantPowerSensor
from vatio.errors import InputError
from vatio.measure.sampler import Sampler
from vatio.measure.tracker import Clock, Tracker


def test_phases_work_and_idempotent_stop():
    clock = ManualClock()
    sensor = ConstantPowerSensor(watts=50.0)
    tracker = Tracker("t", interval_s=0.05, sensors=[sensor], clock=clock.clock())
    tracker.start()
    tracker.start()  # second start is a no-op
    clock.advance(1.0)
    with tracker.phase("a"):
        clock.advance(2.0)
        time.sleep(0.1)  # the sampler thread ticks meanwhile; the clock does not move
    clock.advance(0.5)
    tracker.add_work(samples=100)
    tracker.add_work(samples=50)
    result = tracker.stop()
    again = tracker.stop("failed")
    assert again is result and result.status == "completed"
    assert result.duration_s == pytest.approx(3.5)
    assert result.energy_j == pytest.approx(50.0 * 3.5)
    phase = result.per_phase["a"]
    assert phase.duration_s == pytest.approx(2.0)
    assert phase.energy_j + phase.overhead_j == pytest.approx(100.0)
    assert result.work == {"samples": 150.0}
    assert result.energy_per_unit_j["samples"] == pytest.approx(result.energy_j / 150)
    assert result.method == "measured:rapl"


def test_sensor_error_mid_run_is_counted_and_energy_recovered():
    clock = ManualClock()
    sensor = ConstantPowerSensor(watts=10.0, fail_reads={2, 3})
    tracker = Tracker(interval_s=1000, sensors=[sensor], clock=clock.clock())
    tracker.start()
    for _ in range(5):  # reads 1..5 at phase boundaries; reads 2 and 3 fail
        clock.advance(1.0)
        with tracker.phase("step"):
            pass
    result = tracker.stop()
    device = result.devices[0]
    assert device.errors == 2
    assert "scripted failure" in device.last_error
    assert device.energy_j == pytest.approx(10.0 * 5.0)  # recovered from the next good read


@pytest.mark.parametrize(
    "count", [float("nan"), float("inf"), -1, "12", None, True, [3], complex(1, 0)]
)
def test_bad_work_counts_are_refused_at_the_call_and_the_tracker_survives(count):
    tracker = Tracker(sensors=[ConstantPowerSensor()])
    tracker.start()
    tracker.add_work(samples=5)
    with pytest.raises(InputError, match="add_work"):
        tracker.add_work(samples=count)
    with pytest.raises(InputError):
        tracker.add_work(**{"tokens": 3, "samples": count})  # nothing of a bad call is kept
    result = tracker.stop()
    assert result.status == "completed" and result.work == {"samples": 5.0}


def test_callbacks_run_in_order_and_a_failing_one_is_a_warning():
    seen = []
    tracker = Tracker(sensors=[ConstantPowerSensor()])
    tracker.on_start(lambda r: seen.append(("start", r.status)))
    tracker.on_finish(lambda r: seen.append(("finish", r.status)))
    tracker.on_finish(lambda r: 1 / 0)
    with tracker:
        pass
    assert seen == [("start", "running"), ("finish", "completed")]
    assert any("ZeroDivisionError" in w for w in tracker.result.warnings)


def test_context_manager_records_failure_and_interrupt():
    tracker = Tracker(sensors=[ConstantPowerSensor()])
    with pytest.raises(ValueError), tracker:
        raise ValueError("boom")
    assert tracker.result.status == "failed"
    assert "boom" in tracker.result.error
    tracker = Tracker(sensors=[ConstantPowerSensor()])
    with pytest.raises(KeyboardInterrupt), tracker:
        raise KeyboardInterrupt
    assert tracker.result.status == "interrupted"


def test_decorator_makes_a_fresh_run_per_call():
    @Tracker(sensors=[ConstantPowerSensor()])
    def work(x):
        return x * 2

    assert work(2) == 4
    first = work.last_result
    assert work(3) == 6
    assert work.last_result.id != first.id
    assert work.last_result.name.endswith("work")


def test_idle_baseline_is_subtracted():
    sensor = ConstantPowerSensor(watts=20.0)
    one_source = Clock(wall=time.monotonic, monotonic=time.monotonic)  # load cannot skew it
    tracker = Tracker(interval_s=0.02, sensors=[sensor], idle_baseline_s=0.1, clock=one_source)
    tracker.start()
    time.sleep(0.1)
    result = tracker.stop()
    assert result.idle["power_w"]["cpu:fake"] == pytest.approx(20.0, rel=0.05)
    # constant power: the active energy above idle is about zero
    assert result.idle["active_energy_j"] <= 0.1 * result.energy_j


def test_process_share_of_a_busy_process_is_large():
    """Our own busy loop should own most of the CPU time while it runs."""
    sensor = ConstantPowerSensor(watts=10.0)
    tracker = Tracker(interval_s=0.05, sensors=[sensor])
    tracker.start()
    end = time.perf_counter() + 0.4
    while time.perf_counter() < end:
        pass
    result = tracker.stop()
    assert 0.0 < result.process_energy_j <= result.energy_j + 1e-9


def test_sampler_respects_sensor_poll_limit():
    class Wrapping(ConstantPowerSensor):
        max_interval_s = 0.25

    sampler = Sampler([Wrapping()], interval_s=1.0)
    assert sampler.interval_s == 0.25


def test_memory_is_bounded_for_long_runs():
    sampler = Sampler([ConstantPowerSensor()], interval_s=1.0, max_points=64)
    sampler.start()
    sampler._stop.set()
    for _ in range(1000):
        sampler.tick()
    assert len(sampler.timeline.t0) <= 64


def test_cpu_time_seen_late_is_paid_from_unclaimed_earlier_energy():
    sampler = Sampler([ConstantPowerSensor()], interval_s=1.0)
    # tick 1: the child ran but is not visible yet; tick 2: it is reaped, all its time appears
    first = sampler._cpu_part("cpu:fake", 10.0, {"tree_s": 0.0, "busy_s": 1.0})
    second = sampler._cpu_part("cpu:fake", 10.0, {"tree_s": 2.0, "busy_s": 1.0})
    assert (first, second) == (0.0, 20.0)
    # nothing more to claim afterwards
    assert sampler._cpu_part("cpu:fake", 10.0, {"tree_s": 0.5, "busy_s": 1.0}) == 5.0


def test_short_child_energy_is_attributed():
    import resource
    import sys

    from vatio.measure.attribution import machine_busy_cpu_s
    from vatio.process import supervise

    tracker = Tracker(interval_s=1.0)
    tracker.start()
    children0, busy0 = resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy_cpu_s()
    busy = "import time\nwhile time.process_time() < 0.4: pass"  # 0.4 s of CPU, whatever the load
    supervise([sys.executable, "-c", busy])
    children1, busy1 = resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy_cpu_s()
    result = tracker.stop()
    child_s = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    expected_share = child_s / (busy1 - busy0)  # whatever else loads the machine meanwhile
    cpu = next(d for d in result.devices if d.device == "cpu")
    assert child_s >= 0.4
    assert cpu.process_energy_j >= 0.6 * expected_share * cpu.energy_j
