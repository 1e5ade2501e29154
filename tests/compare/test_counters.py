"""Instruction counters: valgrind's output files, the perf-events launcher, the choice."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys

import pytest

from vatio.compare import counters, perfcount
from vatio.compare.counters import CachegrindCounter, choose_counter, parse_valgrind_output
from vatio.errors import InputError, VatioError

CACHEGRIND = """desc: I1 cache:         32768 B, 64 B, 8-way associative
cmd: /usr/bin/python3 bench.py
events: Ir
fl=/tmp/bench.py
fn=main
1 1200
summary: 1797466594
"""
CACHEGRIND_SIM = """events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw
summary: 1000 2 1 300 4 3 200 6 5
"""
CALLGRIND = """# callgrind format
version: 1
creator: callgrind-3.19.0
positions: line
events: Ir
summary: 126637

fl=(1) ???
fn=(1) 0x0000000000001100
0 3
totals: 126637
"""

valgrind = pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")


def test_parses_cachegrind_and_callgrind_output():
    assert parse_valgrind_output(CACHEGRIND) == 1797466594
    assert parse_valgrind_output(CACHEGRIND_SIM) == 1000
    assert parse_valgrind_output(CACHEGRIND_SIM, "Dr") == 300
    assert parse_valgrind_output(CALLGRIND) == 126637
    assert parse_valgrind_output(CALLGRIND.replace("summary: 126637\n", "")) == 126637


@pytest.mark.parametrize(
    "text", ["", "events: Ir\n", "summary: 12\n", "events: Dr Dw\nsummary: 1 2\n"]
)
def test_foreign_output_is_an_error_not_a_zero(text):
    with pytest.raises(VatioError):
        parse_valgrind_output(text)


@valgrind
def test_real_cachegrind_counts_every_process(tmp_path):
    """A real valgrind run: a shell and its two children, one output file each, summed."""
    counter = CachegrindCounter(shutil.which("valgrind"))
    argv = counter.wrap(["/bin/sh", "-c", "/bin/true; /bin/echo hi"], tmp_path)
    done = subprocess.run(argv, capture_output=True, text=True, env=counter.env(), check=False)
    assert done.returncode == 0 and done.stdout == "hi\n"
    assert "Cachegrind" not in done.stderr  # valgrind's own messages went to its log files
    count = counter.read(tmp_path)
    files = sorted(tmp_path.glob("cachegrind.out.*"))
    assert count.processes == len(files) == 3
    assert count.value == sum(parse_valgrind_output(f.read_text()) for f in files) > 100_000
    section = counter.section(count)
    assert section["method"] == "counted:cachegrind" and "not energy" in section["label"]
    assert section["python_hash_seed"] == "0"


@valgrind
def test_no_output_from_valgrind_says_why(tmp_path):
    counter = CachegrindCounter(shutil.which("valgrind"))
    with pytest.raises(VatioError, match="no instruction count"):
        counter.read(tmp_path)


def _launch(tmp_path, *command, event="task-clock"):
    out = tmp_path / "count.json"
    argv = [sys.executable, "-m", "vatio.compare.perfcount", str(out), "--event", event, "--"]
    done = subprocess.run([*argv, *command], capture_output=True, text=True, check=False)
    return done, json.loads(out.read_text())


def test_perf_events_launcher_counts_the_child_and_keeps_its_exit(tmp_path):
    """The ctypes perf_event_open path, with the software task clock every Linux has
    (this VM has no hardware counter): inherited, enabled at exec, read after the child."""
    busy = "import sys\nx = sum(range(3_000_000))\nsys.exit(3)"
    done, data = _launch(tmp_path, sys.executable, "-c", busy)
    assert done.returncode == 3 and data["exit_code"] == 3
    assert data["value"] > 10_000_000  # ns of the child's CPU: well over 10 ms
    killed, _ = _launch(
        tmp_path, sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    )
    assert killed.returncode == -signal.SIGTERM  # the launcher ends as the command did


def test_hardware_counter_when_the_machine_has_one(tmp_path):
    problem = perfcount.available()
    if problem is not None:
        assert "counter" in problem or "perf" in problem
        with pytest.raises(InputError, match="Cannot count instructions with perf"):
            choose_counter("instructions", "perf")
        return
    done, data = _launch(tmp_path, "/bin/true", event="instructions")
    assert done.returncode == 0 and data["value"] > 10_000


def test_choice_of_counter(monkeypatch):
    with pytest.raises(InputError, match="Unknown counter"):
        choose_counter("cycles")
    with pytest.raises(InputError, match="Unknown counter tool"):
        choose_counter("instructions", "oprofile")
    monkeypatch.setattr(perfcount, "available", lambda event="instructions": "no PMU")
    monkeypatch.setattr(counters.shutil, "which", lambda name: None)
    with pytest.raises(InputError, match="valgrind is not installed"):
        choose_counter("instructions")
    monkeypatch.setattr(counters.shutil, "which", lambda name: "/usr/bin/valgrind")
    assert choose_counter("instructions").method == "counted:cachegrind"
    monkeypatch.setattr(perfcount, "available", lambda event="instructions": None)
    assert choose_counter("instructions").method == "counted:perf"
    assert choose_counter("instructions", "cachegrind").method == "counted:cachegrind"


def test_counts_of_different_counters_are_never_compared():
    from vatio.compare.gate import check_same_counter, metric_value

    def record(method, value):
        counted = {"metric": "instructions", "value": value, "method": method}
        return {"id": "r", "status": "completed", "extensions": {"compare": {"counter": counted}}}

    perf, grind = record("counted:perf", 10), record("counted:cachegrind", 11)
    assert metric_value(perf, "instructions") == 10
    assert metric_value({"extensions": {}}, "instructions") is None
    check_same_counter([perf, perf], [perf])
    with pytest.raises(InputError, match="not comparable"):
        check_same_counter([perf, perf], [grind, grind])
