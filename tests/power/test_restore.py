"""Always restore: in-process sessions, and real vatio processes killed in every way.

The subprocess tests run the real CLI against a GPU whose state lives in a
file (tests/fakes/nvml_file.py) and a cpufreq tree in a temporary folder, so a
killed vatio, a later `vatio power restore` and the next vatio start all see
the same machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.fakes.cpufreq import FakeCpufreq
from tests.fakes.nvml import FakeGPU
from tests.fakes.nvml_file import load_state, save_state
from vatio.errors import InputError
from vatio.power.discovery import discover_knobs
from vatio.power.restore import PowerSession, restore_files, restore_pending, state_dir

REPO = Path(__file__).resolve().parents[2]


def _knobs(nvml, cpufreq):
    found = discover_knobs(nvml=nvml, cpufreq_root=cpufreq.root, env={})
    return found, found.with_key("gpu_power_limit_w")[0], found.with_key("cpu_max_freq_khz")[0]


def _files() -> list[Path]:
    folder = state_dir()
    return sorted(folder.glob("restore-*.json")) if folder.is_dir() else []


def test_restore_file_is_written_before_the_change_and_removed_after(nvml, cpufreq):
    knobs, limit, freq = _knobs(nvml, cpufreq)
    with PowerSession([limit, freq]) as session:
        (path,) = _files()
        saved = json.loads(path.read_text())
        assert [e["snapshot"] for e in saved["entries"]] == [
            {"value": 400.0},
            {"files": {str(cpufreq.path(0, "scaling_max_freq")): 3600000,
                       str(cpufreq.path(1, "scaling_max_freq")): 3600000}},
        ]  # fmt: skip
        session.set(limit, 150)
        session.set(freq, 1_200_000)
        assert nvml.gpus[0].power_limit_mw == 150_000
    assert nvml.gpus[0].power_limit_mw == 400_000
    assert cpufreq.values("scaling_max_freq") == ["3600000", "3600000"]
    assert not _files()
    knobs.close()


def test_exception_restores(nvml, cpufreq):
    _, limit, freq = _knobs(nvml, cpufreq)
    with pytest.raises(RuntimeError), PowerSession([limit, freq]) as session:
        session.set(limit, 200)
        session.set(freq, 2_000_000)
        raise RuntimeError("the job broke")
    assert nvml.gpus[0].power_limit_mw == 400_000 and not _files()


def test_a_failed_restore_keeps_the_file_for_later(nvml, cpufreq):
    _, limit, freq = _knobs(nvml, cpufreq)
    session = PowerSession([limit, freq]).open()
    session.set(limit, 200)
    nvml.privileged = False  # e.g. the permission was taken away meanwhile
    lines = session.close()
    assert any("NOT restored" in line for line in lines)
    (path,) = _files()
    assert [e["key"] for e in json.loads(path.read_text())["entries"]] == ["gpu_power_limit_w"]
    nvml.privileged = True
    # here the file names pynvml, and this VM has no NVIDIA driver: kept, and said so
    assert "NOT restored" in restore_files(force=True)[0]
    assert _files()
    assert restore_files(force=True, nvml=nvml)[0].startswith("restoring: GPU 0 power limit back")
    assert nvml.gpus[0].power_limit_mw == 400_000 and not _files()


def test_a_live_session_blocks_another_on_the_same_knob(nvml, cpufreq):
    _, limit, freq = _knobs(nvml, cpufreq)
    with PowerSession([limit]):
        other = PowerSession([limit])
        other.path = other.path.with_name("restore-other.json")
        with pytest.raises(InputError, match="is changing GPU 0 power limit"):
            other.open()
        with PowerSession([freq]) as third:  # another knob is fine
            third.set(freq, 1_000_000)


def test_persistent_apply_keeps_the_original_across_applies(nvml, cpufreq):
    _, limit, _ = _knobs(nvml, cpufreq)
    with PowerSession([limit], persistent=True) as first:
        first.set(limit, 300)
    second = PowerSession([limit], persistent=True)
    second.path = second.path.with_name("restore-second.json")
    with second:
        second.set(limit, 200)
    assert nvml.gpus[0].power_limit_mw == 200_000
    (path,) = _files()
    assert json.loads(path.read_text())["entries"][0]["snapshot"] == {"value": 400.0}
    assert restore_pending(quiet=True, nvml=nvml) == []  # persistent: not undone at start-up
    restore_files(nvml=nvml)
    assert nvml.gpus[0].power_limit_mw == 400_000 and not _files()


def test_restore_pending_costs_one_listing_when_nothing_is_pending(tmp_path, monkeypatch):
    monkeypatch.setenv("VATIO_POWER_STATE_DIR", str(tmp_path / "none"))
    assert restore_pending() == []
    assert not (tmp_path / "none").exists()  # nothing created either
    code = (
        "import sys, vatio.power.restore as r; r.restore_pending(); "
        "print(sorted(m for m in ('psutil','fcntl','json') if m in sys.modules and m != 'json'))"
    )
    env = {**os.environ, "VATIO_POWER_STATE_DIR": str(tmp_path / "none")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert "psutil" not in out.stdout, out.stdout + out.stderr


# -- real processes ---------------------------------------------------------------------------
@pytest.fixture
def machine(tmp_path):
    """A file-backed GPU and a cpufreq tree, and the environment that points vatio at them."""
    gpu_file = tmp_path / "gpu.json"
    save_state(gpu_file, [FakeGPU(uuid="GPU-aaaa1111-0000-0000-0000-000000000000")])
    tree = FakeCpufreq(tmp_path)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")]),
        "VATIO_NVML_MODULE": "tests.fakes.nvml_file",
        "VATIO_FAKE_NVML_STATE": str(gpu_file),
        "VATIO_CPUFREQ_ROOT": str(tree.root),
        "VATIO_POWER_STATE_DIR": str(tmp_path / "state"),
        "VATIO_STORE": str(tmp_path / "runs.db"),
        "PYTHONUNBUFFERED": "1",
    }
    profile = tmp_path / "best.json"
    setting = {"gpu_power_limit_w": 180, "cpu_max_freq_khz": 1_400_000}
    profile.write_text(json.dumps({"tool": {"vatio": {"power": setting}}}))
    return {"gpu": gpu_file, "tree": tree, "env": env, "profile": profile, "tmp": tmp_path}


def _limit(machine) -> int:
    return load_state(machine["gpu"])["gpus"][0]["power_limit_mw"]


def _changed(machine) -> bool:
    return _limit(machine) == 180_000 and machine["tree"].values("scaling_max_freq") == [
        "1400000",
        "1400000",
    ]


def _restored(machine) -> bool:
    return _limit(machine) == 400_000 and machine["tree"].values("scaling_max_freq") == [
        "3600000",
        "3600000",
    ]


def _vatio(machine, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "vatio", *args],
        env=machine["env"],
        cwd=machine["tmp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _wait(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def _apply_and_wait(machine) -> tuple[subprocess.Popen, list[psutil.Process]]:
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    proc = _vatio(machine, "power", "apply", "--profile", str(machine["profile"]), "--", *sleeper)
    _wait(lambda: _changed(machine) or proc.poll() is not None)
    assert proc.poll() is None, proc.communicate()
    _wait(lambda: bool(psutil.Process(proc.pid).children()))
    return proc, psutil.Process(proc.pid).children(recursive=True)


@pytest.mark.e2e
def test_exception_in_a_real_process_restores(machine):
    script = (
        "from vatio.power.discovery import discover_knobs\n"
        "from vatio.power.restore import PowerSession\n"
        "knobs = discover_knobs()\n"
        "limit = knobs.with_key('gpu_power_limit_w')[0]\n"
        "freq = knobs.with_key('cpu_max_freq_khz')[0]\n"
        "with PowerSession([limit, freq]) as s:\n"
        "    s.set(limit, 180); s.set(freq, 1400000)\n"
        "    raise RuntimeError('boom')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=machine["env"], capture_output=True, text=True
    )
    assert done.returncode == 1 and "boom" in done.stderr
    assert _restored(machine) and not list((machine["tmp"] / "state").glob("restore-*"))


@pytest.mark.e2e
def test_sigterm_restores_and_exits_like_the_job(machine):
    proc, _children = _apply_and_wait(machine)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert _restored(machine), err
    assert not list((machine["tmp"] / "state").glob("restore-*"))


@pytest.mark.e2e
def test_sigkill_then_vatio_power_restore(machine):
    proc, children = _apply_and_wait(machine)
    proc.kill()
    proc.wait(timeout=30)
    for child in children:
        child.kill()
    assert _changed(machine)  # nothing could run at SIGKILL
    assert len(list((machine["tmp"] / "state").glob("restore-*"))) == 1
    done = subprocess.run(
        [sys.executable, "-m", "vatio", "power", "restore", "--json"],
        env=machine["env"],
        cwd=machine["tmp"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "GPU 0 power limit back to 180" not in done.stdout
    assert "GPU 0 power limit back to 400" in done.stdout
    assert _restored(machine)
    assert not list((machine["tmp"] / "state").glob("restore-*"))


@pytest.mark.e2e
def test_sigkill_then_the_next_vatio_start_restores_with_a_warning(machine):
    proc, children = _apply_and_wait(machine)
    proc.kill()
    proc.wait(timeout=30)
    for child in children:
        child.kill()
    done = subprocess.run(
        [sys.executable, "-m", "vatio", "power", "show", "--json"],
        env=machine["env"],
        cwd=machine["tmp"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "warning: vatio (pid" in done.stderr and "ended without restoring" in done.stderr
    assert _restored(machine)
    shown = json.loads(done.stdout)
    limit = next(k for k in shown["knobs"] if k["key"] == "gpu_power_limit_w")
    assert limit["value"] == 400.0 and limit["writable"]


@pytest.mark.e2e
def test_sigterm_during_a_sweep_restores_and_records_the_stop(machine):
    job = (
        "import json, os, time\n"
        "state = json.load(open(os.environ['VATIO_FAKE_NVML_STATE']))\n"
        "time.sleep(120 if state['gpus'][0]['power_limit_mw'] == 180000 else 0.1)\n"
    )
    proc = _vatio(
        machine, "power", "sweep", "--gpu-power-limits", "180", "--json", "--",
        sys.executable, "-c", job,
    )  # fmt: skip
    _wait(lambda: _limit(machine) == 180_000 or proc.poll() is not None)
    _wait(lambda: len(psutil.Process(proc.pid).children()) == 1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert _limit(machine) == 400_000
    section = json.loads(out)
    assert (
        section["status"] == "killed" and "GPU 0 power limit back to 400" in section["restored"][0]
    )
    assert not list((machine["tmp"] / "state").glob("restore-*"))
