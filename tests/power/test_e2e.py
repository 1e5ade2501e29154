"""Real sweeps on this VM: the job really gets the threads and cores, the digits example runs.

Kept small (a few steps per setting); benchmarks/power.py runs the full sweep.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
JOB = """
import json, os, sys, time
import vatio.power
log = open(sys.argv[1], "w")
for step in range(int(sys.argv[2])):
    t = time.perf_counter()
    while time.perf_counter() - t < 0.02:
        pass
    vatio.power.step(samples=8)
    log.write(json.dumps([step, os.environ.get("OMP_NUM_THREADS"),
                          sorted(os.sched_getaffinity(0))]) + "\\n")
    log.flush()
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VATIO_", "OMP_", "MKL_"))}
    env["VATIO_POWER_STATE_DIR"] = str(tmp_path / "state")
    env["VATIO_STORE"] = str(tmp_path / "runs.db")
    env["PYTHONPATH"] = str(REPO / "src")
    return env


def _vatio(
    tmp_path: Path, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vatio", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(tmp_path) | env,
        cwd=tmp_path,
    )


@pytest.mark.e2e
@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux CPU affinity")
def test_steps_sweep_really_sets_threads_and_cores_in_the_running_job(tmp_path):
    script, log = tmp_path / "job.py", tmp_path / "steps.log"
    script.write_text(JOB)
    done = _vatio(
        tmp_path, "power", "sweep", "--threads", "1", "--cores", "1", "--steps", "3",
        "--warmup-steps", "1", "--json", "--", sys.executable, str(script), str(log), "12",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    section = json.loads(done.stdout)
    steps = [json.loads(line) for line in log.read_text().splitlines()]
    every = sorted(os.sched_getaffinity(0))
    # window 1 (steps 0-3): default; window 2 (steps 4-7): 1 thread on 1 core
    assert steps[2][1] is None and steps[2][2] == every
    assert steps[6][1] == "1" and len(steps[6][2]) == 1
    chosen = section["choice"]["index"]
    assert chosen in (0, 1)
    assert (len(steps[-1][2]) == 1) == (chosen == 1)  # the rest of the run at the choice
    assert [r["repeats"][0]["units"] for r in section["settings"]] == [3, 3]
    assert section["settings"][1]["energy_per_sample_j"] is not None
    assert section["mode"] == "steps" and section["record"]["run_id"]


@pytest.mark.e2e
def test_digits_thread_sweep_in_one_run(tmp_path):
    done = _vatio(
        tmp_path, "power", "sweep", "--threads", "1,2", "--steps", "5", "--warmup-steps", "1",
        "--attribution", "process", "--json", "-o", "best.toml",
        "--", sys.executable, "-m", "vatio.examples.digits", "--epochs", "1",
        OMP_NUM_THREADS="1",  # the job's own default: one thread (a shared 2-CPU VM crawls at 2)
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    section = json.loads(done.stdout)
    assert [r["label"] for r in section["settings"]] == ["default", "1 threads", "2 threads"]
    for row in section["settings"]:
        assert row["energy_per_unit_j"] > 0 and row["time_per_unit_s"] > 0
        assert row["energy_per_sample_j"] == pytest.approx(row["energy_per_unit_j"] / 64, rel=0.2)
    assert section["choice"]["index"] is not None
    assert "[tool.vatio.power]" in (tmp_path / "best.toml").read_text()
    from vatio.store.runstore import RunStore

    runs = RunStore(f"sqlite:///{tmp_path / 'runs.db'}").list_runs(kind="power-sweep")
    assert [r["id"] for r in runs] == [section["record"]["run_id"]]
    assert runs[0]["energy_j"] > 0  # one run: windows, then the rest at the chosen setting


@pytest.mark.e2e
def test_runs_mode_records_each_run_under_the_sweep(tmp_path):
    job = [sys.executable, "-c", "import time; t = time.time()\nwhile time.time() - t < 0.3: pass"]
    done = _vatio(tmp_path, "power", "sweep", "--cores", "1", "--repeat", "2", "--json", "--", *job)
    assert done.returncode == 0, done.stderr
    section = json.loads(done.stdout)
    assert section["mode"] == "runs" and [len(r["run_ids"]) for r in section["settings"]] == [2, 2]
    from vatio.store.runstore import RunStore

    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    sweep = store.get(section["record"]["run_id"])
    assert sweep["summary"]["kind"] == "power-sweep"
    assert sweep["extensions"]["power"]["mode"] == "runs"
    child = store.get(section["settings"][1]["run_ids"][0])
    assert child["summary"]["kind"] == "power" and child["summary"]["parent_id"] == sweep["id"]
    assert child["totals"]["energy_j"] > 0
    assert child["extensions"]["power"]["setting"] == {"cores": 1}


@pytest.mark.e2e
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_under_sudo_the_job_runs_as_the_user_not_root(tmp_path):
    import pwd

    nobody = pwd.getpwnam("nobody")
    profile = tmp_path / "best.json"
    profile.write_text(json.dumps({"power": {"threads": 1}}))
    (tmp_path / "state").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "vatio", "power", "apply", "--profile", str(profile), "--",
         "/usr/bin/id", "-u"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env=_env(tmp_path) | {"SUDO_UID": str(nobody.pw_uid), "SUDO_GID": str(nobody.pw_gid)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(nobody.pw_uid)
