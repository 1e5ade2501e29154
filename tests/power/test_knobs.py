"""Knobs against fakes that really change state: read, write, and why-not with the fix."""

from __future__ import annotations

import pytest

from tests.fakes.cpufreq import FakeCpufreq
from tests.fakes.nvml import FakeGPU, FakeNVML
from vatio.errors import InputError
from vatio.power.common import KnobUnavailable
from vatio.power.cores import CoresKnob, ThreadsKnob, pick_cpus, thread_env
from vatio.power.cpufreq import discover_cpu_knobs
from vatio.power.discovery import discover_knobs


def _knob(knobset, key):
    return knobset.with_key(key)[0]


def test_gpu_power_limit_reads_writes_and_caps_the_draw(nvml):
    with discover_knobs(nvml=nvml, cpufreq_root="/nonexistent", env={}) as knobs:
        limit = _knob(knobs, "gpu_power_limit_w")
        status = limit.status()
        assert status.readable and status.writable and status.value == 400.0
        assert status.allowed == {"min": 100.0, "max": 400.0, "default": 400.0}
        assert "persistence mode is on" in status.notes
        limit.write(250)
        assert nvml.gpus[0].power_limit_mw == 250_000 and limit.read() == 250.0
        nvml.run(0, 10, watts=300)  # the board holds the limit
        assert nvml.gpus[0].power_mw == 250_000
        with pytest.raises(InputError, match="outside 100-400 W"):
            limit.check_value(450)


def test_gpu_without_root_says_why_and_the_fix():
    nvml = FakeNVML([FakeGPU(persistence=0)], privileged=False)
    with discover_knobs(nvml=nvml, cpufreq_root="/nonexistent", env={}) as knobs:
        status = _knob(knobs, "gpu_power_limit_w").status()
        assert status.readable and not status.writable
        assert "needs root" in status.reason and "Insufficient Permissions" in status.reason
        assert "nvidia-smi -i 0 -pl" in status.fix and "never train as root" in status.fix
        assert any("nvidia-smi -i 0 -pm 1" in n for n in status.notes)
        with pytest.raises(KnobUnavailable, match="needs root"):
            _knob(knobs, "gpu_power_limit_w").write(200)
        assert nvml.gpus[0].power_limit_mw == 400_000
        clocks = _knob(knobs, "gpu_max_clock_mhz").status()
        assert not clocks.writable and "needs root" in clocks.reason


def test_board_that_refuses_power_limits():
    nvml = FakeNVML([FakeGPU(limit_settable=False)])
    with discover_knobs(nvml=nvml, cpufreq_root="/nonexistent", env={}) as knobs:
        status = _knob(knobs, "gpu_power_limit_w").status()
        assert not status.writable and "not supported" in status.reason


def test_locked_clocks_lock_and_reset(nvml):
    with discover_knobs(nvml=nvml, cpufreq_root="/nonexistent", env={}) as knobs:
        clocks = _knob(knobs, "gpu_max_clock_mhz")
        assert clocks.allowed() == {"min": 210, "max": 1410} and clocks.read() is None
        clocks.write(1005)
        assert nvml.gpus[0].locked_graphics == [210, 1005] and clocks.read() == 1005
        clocks.restore(clocks.snapshot() | {"value": None})
        assert nvml.gpus[0].locked_graphics is None
        memory = _knob(knobs, "gpu_memory_clock_mhz")
        memory.write(1215)
        assert nvml.gpus[0].locked_memory == [1215, 1215]


def test_no_gpu_is_a_note_not_an_error():
    knobs = discover_knobs(nvml=FakeNVML([], init_error=None), cpufreq_root="/x", env={})
    assert not knobs.with_key("gpu_power_limit_w")
    from tests.fakes.nvml import NVMLError_LibraryNotFound

    broken = discover_knobs(
        nvml=FakeNVML(init_error=NVMLError_LibraryNotFound), cpufreq_root="/x", env={}
    )
    assert any("NVML not available" in n for n in broken.notes)


def test_cpufreq_knobs_set_every_policy_and_restore_each(cpufreq: FakeCpufreq):
    cpufreq.path(1, "scaling_max_freq").write_text("3000000\n")  # policies may differ
    knobs, notes = discover_cpu_knobs(cpufreq.root)
    assert not notes
    freq = next(k for k in knobs if k.key == "cpu_max_freq_khz")
    snapshot = freq.snapshot()
    assert freq.allowed() == {"min": 800_000, "max": 3_600_000}
    assert freq.notes() == ["policies differ: [3000000, 3600000]"]
    freq.write(1_600_000)
    assert cpufreq.values("scaling_max_freq") == ["1600000", "1600000"]
    freq.restore(snapshot)
    assert cpufreq.values("scaling_max_freq") == ["3600000", "3000000"]
    with pytest.raises(KnobUnavailable, match="kernel refused"):
        freq.write(5_000_000)  # the kernel's EINVAL, out of range


def test_governor_epp_and_max_perf(cpufreq: FakeCpufreq):
    knobs = {k.key: k for k in discover_cpu_knobs(cpufreq.root)[0]}
    governor, epp, perf = knobs["cpu_governor"], knobs["cpu_epp"], knobs["cpu_max_perf_pct"]
    assert governor.allowed() == {"choices": ["performance", "powersave"]}
    with pytest.raises(InputError, match="not one of"):
        governor.check_value("ondemand")
    epp.write("power")
    assert cpufreq.values("energy_performance_preference") == ["power", "power"]
    governor.write("performance")
    with pytest.raises(KnobUnavailable, match="performance governor") as caught:
        epp.write("balance_power")
    assert "powersave" in caught.value.hint
    assert perf.allowed() == {"min": 20, "max": 100}
    perf.write(60)
    assert cpufreq.read(None, "max_perf_pct") == "60"


def test_cpufreq_not_writable_names_the_group_fix(cpufreq: FakeCpufreq):
    cpufreq.deny(0, "scaling_max_freq")
    freq = next(k for k in discover_cpu_knobs(cpufreq.root)[0] if k.key == "cpu_max_freq_khz")
    status = freq.status()
    assert status.readable and not status.writable
    assert "needs root" in status.reason and "chgrp power" in status.fix
    assert "systemd-tmpfiles" in status.fix


def test_vm_without_cpufreq_says_not_exposed(tmp_path):
    knobs, notes = discover_cpu_knobs(tmp_path / "sys")
    status = next(k for k in knobs if k.key == "cpu_max_freq_khz").status()
    assert not status.readable and "no cpufreq here" in status.reason
    assert "VM" in status.fix and "usual in VMs" in notes[0]
    perf = next(k for k in knobs if k.key == "cpu_max_perf_pct").status()
    assert "intel_pstate" in perf.reason


def test_job_knobs_work_everywhere():
    threads, cores = ThreadsKnob(), CoresKnob()
    assert threads.status().writable and cores.status().writable
    assert thread_env(3, {})["OMP_NUM_THREADS"] == "3"
    assert thread_env(None, {"A": "1"}) == {"A": "1"}


def test_pick_cpus_prefers_one_thread_per_core(tmp_path):
    for cpu, siblings in ((0, "0,2"), (1, "1,3"), (2, "0,2"), (3, "1,3")):
        folder = tmp_path / f"cpu{cpu}" / "topology"
        folder.mkdir(parents=True)
        (folder / "thread_siblings_list").write_text(siblings)
    assert pick_cpus(2, [0, 1, 2, 3], tmp_path) == [0, 1]
    assert pick_cpus(3, [0, 1, 2, 3], tmp_path) == [0, 1, 2]
