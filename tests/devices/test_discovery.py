from tests.fakes.nvml import FakeGPU, FakeNVML
from tests.fakes.powercap import FakePowercap
from vatio.devices.discovery import discover


def test_no_powercap_falls_back_to_labelled_estimates(tmp_path):
    found = discover(powercap_root=tmp_path / "absent", use_nvml=False)
    methods = {s.name: s.method for s in found.sensors}
    assert methods == {"cpu:estimated": "estimated:tdp", "memory:estimated": "estimated:memory"}
    assert any("absent" in s.detail for s in found.statuses)


def test_permission_denied_falls_back_to_estimation(tmp_path, monkeypatch):
    fake = FakePowercap(tmp_path)
    fake.add_package(0)
    fake.add_package(1)
    fake.install(monkeypatch)
    fake.deny("intel-rapl:1")
    found = discover(powercap_root=fake.root, use_nvml=False)
    cpu = [s for s in found.sensors if s.device == "cpu"]
    assert [s.method for s in cpu] == ["estimated:tdp"]
    denied = [s for s in found.statuses if "permission denied" in s.detail]
    assert denied and "CVE-2020-8694" in denied[0].hint and "chmod" in denied[0].hint


def test_readable_rapl_is_used_and_memory_estimated_without_dram(tmp_path):
    fake = FakePowercap(tmp_path)
    fake.add_package(0)
    found = discover(powercap_root=fake.root, use_nvml=False)
    methods = sorted(s.method for s in found.sensors)
    assert methods == ["estimated:memory", "measured:rapl"]


def test_gpu_sensors_join_from_fake_nvml(tmp_path):
    nvml = FakeNVML([FakeGPU()])
    found = discover(powercap_root=tmp_path / "absent", nvml=nvml, env={})
    assert any(s.device == "gpu" for s in found.sensors)
