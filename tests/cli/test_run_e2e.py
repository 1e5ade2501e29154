"""`vatio run` end to end: real processes, real signals, a real SQLite store."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.cli.helpers import VATIO, env_for, runs_json, vatio

pytestmark = pytest.mark.e2e

PY = sys.executable


def test_exit_code_passes_through_and_output_is_untouched(tmp_path):
    store = tmp_path / "v.db"
    done = vatio("run", "-q", "--", PY, "-c", "print('hello'); raise SystemExit(3)", store=store)
    assert done.returncode == 3
    assert done.stdout == "hello\n"
    (run,) = runs_json(store)
    assert run["status"] == "failed" and run["exit_code"] == 3


def test_missing_command_is_recorded_with_127(tmp_path):
    store = tmp_path / "v.db"
    done = vatio("run", "-q", "--", "no-such-command-xyz", store=store)
    assert done.returncode == 127
    assert "command not found: no-such-command-xyz" in done.stderr
    assert "Traceback" not in done.stderr
    (run,) = runs_json(store)
    assert run["status"] == "failed" and run["exit_code"] == 127


def test_child_killed_by_sigkill(tmp_path):
    store = tmp_path / "v.db"
    code = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    done = vatio("run", "-q", "--", PY, "-c", code, store=store)
    assert done.returncode == 128 + 9
    (run,) = runs_json(store)
    assert run["status"] == "killed"


CHILD_WAITS_FOR_SIGNAL = """
import signal, sys, time, pathlib
marker = pathlib.Path(sys.argv[1])
def handler(signum, frame):
    marker.write_text(signal.Signals(signum).name)
    sys.exit(42)
signal.signal(signal.SIGINT, handler)
signal.signal(signal.SIGTERM, handler)
marker.with_suffix(".ready").write_text("1")
time.sleep(30)
"""


@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "killed")]
)
def test_signals_are_forwarded_to_the_child(tmp_path, sig, status):
    store = tmp_path / "v.db"
    marker = tmp_path / "got"
    proc = subprocess.Popen(
        [*VATIO, "run", "-q", "--", PY, "-c", CHILD_WAITS_FOR_SIGNAL, str(marker)],
        env=env_for(store),
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = marker.with_suffix(".ready")
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert time.monotonic() < deadline, "child never started"
        time.sleep(0.05)
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 42
    assert marker.read_text() == sig.name
    (run,) = runs_json(store)
    assert run["status"] == status and run["exit_code"] == 42


def test_vatio_killed_mid_run_shows_abandoned(tmp_path):
    """In-process recording (the resident recorder records such a run as killed: see
    tests/cli/test_resident.py)."""
    store = tmp_path / "v.db"
    proc = subprocess.Popen(
        [*VATIO, "run", "-q", "--", PY, "-c", "import time; time.sleep(30)"],
        env=env_for(store) | {"VATIO_RESIDENT": "0"},
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not (store.exists() and runs_json(store)):
        assert time.monotonic() < deadline, "run was never registered"
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    (run,) = runs_json(store)
    assert run["status"] == "abandoned"
    import os

    os.killpg(proc.pid, signal.SIGKILL)


def test_sixteen_concurrent_runs_share_one_sqlite_store(tmp_path):
    store = tmp_path / "shared.db"

    def one(i: int) -> int:
        return vatio("run", "-q", "--name", f"r{i}", "--", PY, "-c", "pass", store=store).returncode

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(one, range(16)))
    assert codes == [0] * 16
    runs = runs_json(store)
    assert sorted(r["name"] for r in runs) == sorted(f"r{i}" for i in range(16))
    assert all(r["status"] == "completed" and r["digest"] for r in runs)


def test_show_and_export(tmp_path):
    store = tmp_path / "v.db"
    done = vatio("run", "--zone", "ES", "--json", "--", PY, "-c", "pass", store=store)
    record = json.loads(done.stdout)
    assert record["carbon"]["zone"] == "ES" and record["carbon"]["co2e_g"] > 0
    assert record["manifest"]["python"]
    shown = vatio("runs", "show", record["id"][:6], "--json", store=store)
    assert json.loads(shown.stdout)["totals"]["energy_j"] == pytest.approx(
        record["totals"]["energy_j"]
    )
    text = vatio("runs", "show", record["id"], store=store)
    assert "intensity source" in text.stdout and record["id"] in text.stdout
    csv_out = tmp_path / "runs.csv"
    assert vatio("runs", "export", "-o", str(csv_out), store=store).returncode == 0
    header, row = csv_out.read_text().splitlines()
    assert header.startswith("id,name,command") and row.startswith(record["id"])
    exported = vatio("runs", "export", "--format", "json", store=store)
    assert json.loads(exported.stdout)[0]["id"] == record["id"]


def test_bad_input_is_one_sentence_and_exit_2(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "vatio.toml").write_text("pue = 0.2\n")
    done = vatio("run", "--", PY, "-c", "pass", cwd=project)
    assert done.returncode == 2
    assert "`pue` = 0.2" in done.stderr and "Traceback" not in done.stderr
    missing = vatio("runs", "show", "doesnotexist", store=tmp_path / "v.db")
    assert missing.returncode == 2 and "There is no run store" in missing.stderr
    assert not (tmp_path / "v.db").exists()  # reading never creates a store
    zone = vatio("run", "--zone", "Atlantis", "--", "true", store=tmp_path / "v.db")
    assert zone.returncode == 2 and "Unknown grid zone 'ATLANTIS' (from --zone flag)" in zone.stderr
    assert vatio("run", "--", "true", store=tmp_path / "v.db").returncode == 0
    unknown = vatio("runs", "show", "doesnotexist", store=tmp_path / "v.db")
    assert unknown.returncode == 2 and "No run with id" in unknown.stderr


def test_hardware_lists_sources(tmp_path):
    done = vatio("hardware", "--json", "--powercap-root", str(tmp_path / "none"))
    data = json.loads(done.stdout)
    assert any("absent" in s["detail"] for s in data["sources"])
    assert {s["method"] for s in data["sensors"]} >= {"estimated:tdp"}


def test_greenest_run_records_its_plan(tmp_path):
    store = tmp_path / "v.db"
    done = vatio(
        "run", "--greenest", "--zone", "FR", "--duration", "1m", "--within", "1m", "--json",
        "--", PY, "-c", "pass", store=store,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    plan = record["extensions"]["schedule"]
    assert plan["mode"] == "window" and plan["zone"] == "FR"
    assert "typical-year proxy" in plan["source"]


def test_greenest_options_need_greenest(tmp_path):
    done = vatio("run", "--duration", "1h", "--", "true", store=tmp_path / "v.db")
    assert done.returncode == 2 and "only apply with --greenest" in done.stderr
