"""NVML sensor against a fake pynvml with real counter behaviour."""

from __future__ import annotations

import inspect
import sys

import pytest

from tests.fakes.nvml import FakeGPU, FakeNVML, NVMLError_GpuIsLost, NVMLError_LibraryNotFound
from vatio.devices.common import MEASURED_NVML_COUNTER, MEASURED_NVML_POWER
from vatio.devices.nvidia import discover_nvidia, gpu_inventory
from vatio.errors import SensorReadError

UUIDS = [
    "GPU-aaaa1111-0000-0000-0000-000000000000",
    "GPU-bbbb2222-0000-0000-0000-000000000000",
    "GPU-bbbb3333-0000-0000-0000-000000000000",
]


def _fake(n: int = 1, **gpu: object) -> FakeNVML:
    return FakeNVML([FakeGPU(uuid=UUIDS[i], **gpu) for i in range(n)])


def _one(nvml: FakeNVML):
    found = discover_nvidia(nvml, env={})
    assert len(found.sensors) == 1, found.statuses
    return found.sensors[0]


def test_counter_path_total():
    nvml = _fake()
    sensor = _one(nvml)
    assert sensor.name == "gpu:0" and sensor.device == "gpu"
    assert sensor.method == MEASURED_NVML_COUNTER and sensor.max_interval_s is None
    sensor.start(0.0)
    nvml.run(0, 10, watts=250)  # 2500 J
    assert sensor.read(10.0).energy_j == pytest.approx(2500.0)
    nvml.run(0, 5, watts=100)  # 500 J
    reading = sensor.read(15.0)
    assert reading.energy_j == pytest.approx(3000.0)
    assert reading.low_j == reading.high_j == reading.energy_j


def test_power_sampling_path_trapezoid_total():
    nvml = _fake(has_counter=False, power_mw=100_000)
    sensor = _one(nvml)
    assert sensor.method == MEASURED_NVML_POWER
    assert sensor.max_interval_s == 1.0
    assert any("trapezoid" in a for a in sensor.assumptions)
    sensor.start(0.0)  # 100 W
    nvml.gpus[0].power_mw = 200_000
    assert sensor.read(1.0).energy_j == pytest.approx(150.0)  # (100+200)/2 * 1
    nvml.gpus[0].power_mw = 300_000
    assert sensor.read(3.0).energy_j == pytest.approx(650.0)  # + (200+300)/2 * 2
    nvml.gpus[0].power_mw = 100_000
    assert sensor.read(3.5).energy_j == pytest.approx(750.0)  # + (300+100)/2 * 0.5


def test_counter_error_mid_run_is_counted_and_loses_no_energy():
    nvml = _fake()
    sensor = _one(nvml)
    sensor.start(0.0)
    nvml.run(0, 1, watts=200)
    assert sensor.read(1.0).energy_j == pytest.approx(200.0)
    nvml.fail_next(0, 2, NVMLError_GpuIsLost)
    for t in (2.0, 3.0):
        nvml.run(0, 1, watts=300)
        with pytest.raises(SensorReadError):
            sensor.read(t)
    assert sensor.errors == 2 and "GpuIsLost" in sensor.last_error
    nvml.run(0, 1, watts=100)
    assert sensor.read(4.0).energy_j == pytest.approx(200 + 300 + 300 + 100)
    assert sensor.describe()["errors"] == 2


def test_power_error_mid_run_is_bridged_by_one_trapezoid():
    nvml = _fake(has_counter=False, power_mw=100_000)
    sensor = _one(nvml)
    sensor.start(0.0)
    nvml.fail_next(0, 2)
    for t in (1.0, 2.0):
        with pytest.raises(SensorReadError):
            sensor.read(t)
    nvml.gpus[0].power_mw = 300_000
    assert sensor.read(3.0).energy_j == pytest.approx(600.0)  # (100+300)/2 * 3, not zero
    assert sensor.errors == 2
    assert sensor.describe()["gap_s"] == pytest.approx(3.0)
    assert sensor.read(4.0).energy_j == pytest.approx(900.0)
    assert sensor.describe()["gap_s"] == pytest.approx(3.0)


def test_counter_reset_keeps_energy_after_the_reset():
    nvml = _fake()
    sensor = _one(nvml)
    sensor.start(0.0)
    nvml.run(0, 1, watts=100)
    sensor.read(1.0)
    nvml.gpus[0].energy_mj = 50_000  # driver reloaded: counter restarted, 50 J since
    assert sensor.read(2.0).energy_j == pytest.approx(150.0)
    assert sensor.describe()["counter_resets"] == 1


def _visible(value: str | None, n: int = 3, **env: str) -> tuple[list[str], list[str]]:
    environ = dict(env)
    if value is not None:
        environ["CUDA_VISIBLE_DEVICES"] = value
    found = discover_nvidia(_fake(n), env=environ)
    return [s.name for s in found.sensors], [s.detail for s in found.statuses]


def test_cuda_visible_devices_indices():
    assert _visible(None)[0] == ["gpu:0", "gpu:1", "gpu:2"]
    names, notes = _visible("2,0")
    assert names == ["gpu:2", "gpu:0"]
    assert any("PCI bus" in n for n in notes)  # CUDA_DEVICE_ORDER not set
    names, notes = _visible("2,0", CUDA_DEVICE_ORDER="PCI_BUS_ID")
    assert not any("PCI bus" in n for n in notes)
    assert _visible("1, 1")[0] == ["gpu:1"]


def test_cuda_visible_devices_invalid_entry_stops_the_list():
    names, notes = _visible("1,7,0")
    assert names == ["gpu:1"]
    assert any("'7'" in n and "ignored" in n for n in notes)
    assert _visible("-1")[0] == []


def test_cuda_visible_devices_uuid_prefix():
    assert _visible("GPU-aaaa")[0] == ["gpu:0"]
    assert _visible(f"{UUIDS[2]},GPU-aaaa1111")[0] == ["gpu:2", "gpu:0"]
    names, notes = _visible("GPU-bbbb")  # ambiguous: matches two GPUs
    assert names == [] and any("matches no GPU" in n for n in notes)


def test_cuda_visible_devices_empty_means_no_gpu():
    names, notes = _visible("")
    assert names == []
    assert any("empty" in n for n in notes)


def test_cuda_visible_devices_mig():
    nvml = _fake(2)
    nvml.gpus[1].mig_uuids = ["MIG-1234abcd"]
    env = {"CUDA_VISIBLE_DEVICES": "MIG-1234abcd,MIG-ffff,MIG-GPU-aaaa1111/1/0"}
    found = discover_nvidia(nvml, env=env)
    assert [s.name for s in found.sensors] == ["gpu:1", "gpu:0"]
    details = " ".join(s.detail for s in found.statuses)
    assert "MIG device MIG-ffff not found" in details and "whole GPU" in details


def test_nvml_absent_is_a_status_not_an_exception(monkeypatch):
    found = discover_nvidia(FakeNVML(init_error=NVMLError_LibraryNotFound), env={})
    assert not found.sensors
    (status,) = found.statuses
    assert status.detail.startswith("NVIDIA: NVML not available (")
    assert "NVML Shared Library Not Found" in status.detail
    import vatio.devices.nvidia as nvidia

    monkeypatch.setattr(nvidia, "_driver_present", lambda: False)  # this VM: no driver at all
    found = discover_nvidia(env={})
    assert not found.sensors and "no NVIDIA driver on this machine" in found.statuses[0].detail
    monkeypatch.setattr(nvidia, "_driver_present", lambda: True)
    monkeypatch.setitem(sys.modules, "pynvml", None)  # `import pynvml` raises ImportError
    found = discover_nvidia(env={})
    assert not found.sensors and "nvidia-ml-py not installed" in found.statuses[0].detail
    assert gpu_inventory() == []
    assert gpu_inventory(FakeNVML(init_error=NVMLError_LibraryNotFound)) == []


def test_gpu_with_neither_counter_nor_power_is_reported():
    nvml = _fake(has_counter=False)
    nvml.fail_next(0, 2)  # both probes fail at discovery
    found = discover_nvidia(nvml, env={})
    assert not found.sensors
    assert "neither energy" in found.statuses[0].detail
    assert nvml.shutdown_calls == 1


def test_process_share_from_utilization_then_process_list():
    nvml = _fake()
    nvml.gpus[0].util_samples = [(10, 1_000, 60), (20, 1_100, 20), (30, 1_200, 20)]
    nvml.gpus[0].compute = {10: 1 * 2**30, 99: 3 * 2**30}
    sensor = _one(nvml)
    assert sensor.process_share([10, 20]) == pytest.approx(0.8)
    # no sample since the last timestamp: fall back to memory-weighted process list
    assert sensor.process_share([10]) == pytest.approx(0.25)
    nvml.gpus[0].util_samples.append((10, 2_000, 50))
    assert sensor.process_share([10]) == pytest.approx(1.0)


def test_process_share_from_process_list():
    nvml = _fake(util_samples=None)  # utilization query not supported
    sensor = _one(nvml)
    assert sensor.process_share([1]) is None  # no process on the GPU: unknown
    nvml.gpus[0].compute = {1: 100, 2: 300}
    nvml.gpus[0].graphics = {2: 300}  # the same process in both lists counts once
    assert sensor.process_share([1]) == pytest.approx(0.25)
    assert sensor.process_share([1, 2]) == 1.0
    assert sensor.process_share([5]) == 0.0
    nvml.gpus[0].compute = {1: None, 2: None, 3: None, 4: None}  # memory unknown (WDDM)
    nvml.gpus[0].graphics = {}
    assert sensor.process_share([1]) == pytest.approx(0.25)


def test_describe_and_bytes_strings():
    nvml = FakeNVML([FakeGPU(uuid=UUIDS[0], name="Tesla P100-PCIE-16GB")], bytes_strings=True)
    facts = _one(nvml).describe()
    assert facts["name"] == "gpu:0" and facts["model"] == "Tesla P100-PCIE-16GB"
    assert facts["uuid"] == UUIDS[0]
    assert facts["driver"] == "550.54.15" and facts["cuda"] == "12.4"
    assert facts["power_limit_w"] == 400.0 and facts["memory_total_mb"] == 80 * 1024
    assert facts["method"] == MEASURED_NVML_COUNTER


def test_close_shuts_nvml_down_once_per_init():
    nvml = _fake(2)
    a, b = discover_nvidia(nvml, env={}).sensors
    a.close()
    a.close()
    assert nvml.shutdown_calls == 0  # b still reads
    b.close()
    assert (nvml.init_calls, nvml.shutdown_calls) == (1, 1)
    assert discover_nvidia(nvml, env={"CUDA_VISIBLE_DEVICES": ""}).sensors == []
    assert (nvml.init_calls, nvml.shutdown_calls) == (2, 2)


def test_gpu_inventory():
    nvml = _fake(2)
    rows = gpu_inventory(nvml)
    assert [r["uuid"] for r in rows] == UUIDS[:2]
    assert rows[0]["name"] == "NVIDIA A100-SXM4-80GB" and rows[0]["memory_total_mb"] == 81920
    assert rows[0]["driver"] == "550.54.15" and rows[0]["cuda"] == "12.4"
    assert nvml.init_calls == nvml.shutdown_calls == 1


def test_fake_mirrors_the_real_pynvml_names_and_parameters():
    pynvml = pytest.importorskip("pynvml")
    for attr in dir(FakeNVML):
        if not attr.startswith(("nvml", "NVMLError")):
            continue
        assert hasattr(pynvml, attr), attr
        if attr.startswith("nvml"):
            real = list(inspect.signature(getattr(pynvml, attr)).parameters)
            fake = list(inspect.signature(getattr(FakeNVML, attr)).parameters)[1:]
            if "args" not in real:
                assert fake == real, attr


def test_listing_failure_is_a_status():
    nvml = _fake()

    def broken() -> int:
        raise NVMLError_GpuIsLost()

    nvml.nvmlDeviceGetCount = broken
    found = discover_nvidia(nvml, env={})
    assert not found.sensors and "GPU is lost" in found.statuses[0].detail
    assert nvml.shutdown_calls == 1
