"""Fake GPUs and cpufreq trees with real state; a private restore-file folder per test."""

from __future__ import annotations

import pytest

from tests.fakes.cpufreq import FakeCpufreq
from tests.fakes.nvml import FakeGPU, FakeNVML
from vatio.power import marker


@pytest.fixture(autouse=True)
def _power_state(tmp_path, monkeypatch):
    monkeypatch.setenv("VATIO_POWER_STATE_DIR", str(tmp_path / "state"))
    for name in ("VATIO_NVML_MODULE", "VATIO_CPUFREQ_ROOT", "VATIO_POWER_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    marker.reset()
    yield
    marker.reset()


@pytest.fixture
def nvml() -> FakeNVML:
    return FakeNVML([FakeGPU(uuid="GPU-aaaa1111-0000-0000-0000-000000000000")])


@pytest.fixture
def cpufreq(tmp_path, monkeypatch) -> FakeCpufreq:
    tree = FakeCpufreq(tmp_path)
    tree.install(monkeypatch)
    return tree
