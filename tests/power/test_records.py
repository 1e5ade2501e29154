"""What runs now record for right-sizing, and the driver check of `vatio env compat`."""

from __future__ import annotations

from tests.fakes.nvml import (
    FakeGPU,
    FakeNVML,
    NVMLError_FunctionNotFound,
    NVMLError_NotSupported,
)
from vatio.devices.nvidia import capabilities, discover_nvidia
from vatio.measure.tracker import Tracker
from vatio.provenance.compat import nvidia_driver


def test_gpu_sensor_records_mean_utilisation_and_memory():
    nvml = FakeNVML([FakeGPU(util_gpu=20, util_memory=5, memory_used=3 * 2**30)])
    sensor = discover_nvidia(nvml, env={}).sensors[0]
    sensor.start(0.0)
    sensor.read(1.0)
    nvml.gpus[0].util_gpu, nvml.gpus[0].memory_used = 0, 4 * 2**30
    sensor.read(2.0)
    facts = sensor.describe()
    assert facts["mean_utilisation"] == 0.10 and facts["idle_share"] == 0.5
    assert facts["memory_used_peak_mb"] == 4096 and facts["utilisation_samples"] == 2


def test_tracker_records_the_jobs_cpu_time_and_memory_peak():
    tracker = Tracker(sensors=[], interval_s=0.05)
    with tracker:
        began = __import__("time").process_time()
        while __import__("time").process_time() - began < 0.2:
            pass
    sampler = tracker.result.sampler
    assert sampler["process_cpu_s"] >= 0.15
    assert sampler["process_rss_peak_bytes"] > 10 * 2**20
    assert sampler["memory_total_bytes"] >= sampler["process_rss_peak_bytes"]
    assert sampler["cpu_idle_share"] is not None


def _gpu(nvml_kwargs=None, **gpu):
    return capabilities(FakeNVML([FakeGPU(**gpu)], **(nvml_kwargs or {})))


def test_driver_check_passes_volta_with_counter():
    finding = nvidia_driver(_gpu(compute_capability=(9, 0)))
    assert finding.status == "PASS"


def test_driver_too_old_for_the_counter_fails_with_the_fix():
    nvml = FakeNVML([FakeGPU(compute_capability=(8, 0))])

    def missing(handle):
        raise NVMLError_FunctionNotFound()

    nvml.nvmlDeviceGetTotalEnergyConsumption = missing
    finding = nvidia_driver(capabilities(nvml))
    assert finding.status == "FAIL" and "driver is too old" in finding.evidence
    assert "driver" in finding.fix


def test_volta_without_counter_fails_pascal_warns():
    volta = FakeNVML([FakeGPU(compute_capability=(7, 0), has_counter=False)])
    assert nvidia_driver(capabilities(volta)).status == "FAIL"
    pascal = nvidia_driver(_gpu(compute_capability=(6, 1), has_counter=False))
    assert pascal.status == "WARN" and "predates the energy counter" in pascal.evidence


def test_board_without_power_limit_warns():
    nvml = FakeNVML([FakeGPU(compute_capability=(8, 6))])

    def unsupported(handle):
        raise NVMLError_NotSupported()

    nvml.nvmlDeviceGetPowerManagementLimitConstraints = unsupported
    finding = nvidia_driver(capabilities(nvml))
    assert finding.status == "WARN" and "power-limit control not-supported" in finding.evidence


def test_no_gpu_is_not_applicable():
    assert nvidia_driver([]).status == "N/A"
