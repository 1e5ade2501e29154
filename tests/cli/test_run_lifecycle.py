"""`vatio run` end to end: vatio's own work apart, stubborn children, leftovers, reused pids."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.cli.helpers import VATIO, env_for, vatio
from vatio.store.runstore import display_status

pytestmark = pytest.mark.e2e
PY = sys.executable


def test_vatio_is_not_charged_to_a_sleeping_job(tmp_path):
    done = vatio(
        "run", "--json", "--interval", "200ms", "--", "sleep", "1", store=tmp_path / "v.db"
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    totals, overhead = record["totals"], record["overhead"]
    assert overhead["scope"] == "vatio process" and overhead["cpu_s"] > 0
    # sleep uses no CPU: the job's share is its memory only, not vatio's start-up and sampling
    assert totals["process_energy_j"] < 0.05 * totals["energy_j"]


def test_json_file_keeps_the_jobs_stdout_clean(tmp_path):
    out = tmp_path / "record.json"
    done = vatio("run", "--quiet", "--json-file", str(out), "--", PY, "-c", "print('hello')",
                 store=tmp_path / "v.db")  # fmt: skip
    assert done.stdout == "hello\n"
    assert json.loads(out.read_text())["status"] == "completed"
    bad = vatio("run", "--json-file", str(tmp_path), "--", "true", store=tmp_path / "v.db")
    assert bad.returncode == 2 and "is a folder" in bad.stderr


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace(tmp_path):
    store = tmp_path / "v.db"
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    proc = subprocess.Popen(
        [*VATIO, "run", "--kill-after", "1s", "--json", "--", PY, "-c", stubborn],
        env=env_for(store), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(2.5)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 15
    assert proc.returncode == 128 + signal.SIGKILL, err
    record = json.loads(out)
    assert record["status"] == "killed"
    assert record["error"] == "ignored SIGTERM for 1 s; killed with SIGKILL"


def test_processes_that_outlive_the_job_are_named(tmp_path):
    leaver = (
        "import subprocess, time; "
        "subprocess.Popen(['sleep', '4'], start_new_session=True); time.sleep(1.6)"
    )
    done = vatio("run", "--json", "--interval", "200ms", "--", PY, "-c", leaver,
                 store=tmp_path / "v.db")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 process(es) outlived the job" in done.stderr
    assert any("outlived" in w for w in json.loads(done.stdout)["warnings"])


def test_abandoned_detection_survives_pid_reuse():
    import psutil

    me = psutil.Process()
    row = {"status": "running", "host": socket.gethostname(), "pid": os.getpid()}
    assert display_status({**row, "pid_started": me.create_time()}) == "running"
    # the same pid, but the process that started the run began at another time: reused
    assert display_status({**row, "pid_started": me.create_time() - 3600}) == "abandoned"
    assert display_status({**row, "pid": 2**22 + 17, "pid_started": 1.0}) == "abandoned"


def test_the_first_phase_is_not_charged_with_vatios_start_up(tmp_path):
    """In a fresh process the recorder thread imports and collects the manifest during the
    first phase; that CPU time is vatio's overhead, not the phase's job energy."""
    script = (
        "import json, time, vatio\n"
        "with vatio.track(store=False, interval='100ms') as t:\n"
        "    with t.phase('sleep'):\n"
        "        time.sleep(0.5)\n"
        "p = t.result.phases[0]\n"
        "print(json.dumps({'process': p.process_energy_j, 'overhead': p.overhead_j,\n"
        "                  'run_overhead': t.result.overhead}))\n"
    )
    done = subprocess.run([PY, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env=env_for(None), timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["run_overhead"]["cpu_s"] > 0 and figures["overhead"] > 0
    # a sleeping phase's own share is its memory only: vatio's start-up is not in it
    assert figures["process"] < figures["overhead"]
