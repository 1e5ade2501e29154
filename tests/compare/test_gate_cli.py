"""`vatio compare`: hostile values for every option, the instruction counter end to end,
`--repeat auto` and its progress bar."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys

import pytest

from tests.cli.helpers import VATIO, env_for, vatio
from tests.report.records import save
from vatio.compare import perfcount
from vatio.measure.result import DeviceEnergy, RunResult
from vatio.store.runstore import open_store

LOOP = "i=0; while [ $i -lt {n} ]; do i=$((i+1)); done"


def _run(i: int, joules: float, duration: float = 1.0) -> RunResult:
    return RunResult(
        id=f"run{i:04d}",
        name="bench",
        command=["bench"],
        status="completed",
        started_at=f"2026-01-01T00:00:{i:02d}Z",
        ended_at=f"2026-01-01T00:00:{i:02d}Z",
        duration_s=duration,
        devices=[DeviceEnergy("cpu:x", "cpu", "measured:rapl", joules, joules, joules, joules)],
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("gate") / "v.db"
    for i, joules in enumerate([100, 101, 99, 100.5, 99.5]):
        save(path, _run(i, joules))
        open_store(str(path)).tag(f"run{i:04d}", "main")
    return path


def _cli(monkeypatch, capsys, store, *args):
    """`vatio ARGS` in this process: (exit code, stdout, stderr)."""
    from vatio.cli.app import main

    for key in [k for k in os.environ if k.startswith("VATIO_") and k != "VATIO_RESIDENT_DIR"]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("VATIO_STORE", str(store))
    monkeypatch.setattr(sys, "argv", ["vatio", *args])
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


BAD = "main"
HOSTILE = [
    # --repeat
    (["--repeat", "-1", "--", "true"], "--repeat"),
    (["--repeat", "1", "--", "true"], "out of range"),
    (["--repeat", "1001", "--", "true"], "out of range"),
    (["--repeat", "99999999999999999999", "--", "true"], "neither a number"),
    (["--repeat", "abc", "--", "true"], "neither a number"),
    (["--repeat", "", "--", "true"], "neither a number"),
    (["--repeat", "2.5", "--", "true"], "neither a number"),
    (["--repeat", "51", "--", "true"], "--yes"),
    (["--repeat", "auto", "--max-repeat", "60", "--", "true"], "--yes"),
    (["--repeat", "5"], "needs the command"),
    (["--", "true"], "--repeat N"),
    # --max-repeat
    (["--repeat", "auto", "--max-repeat", "2", "--", "true"], "--max-repeat"),
    (["--repeat", "auto", "--max-repeat", "1001", "--", "true"], "--max-repeat"),
    (["--repeat", "auto", "--max-repeat", "abc", "--", "true"], "--max-repeat"),
    (["--repeat", "auto", "--max-repeat", "99999999999999999999", "--", "true"], "max-repeat"),
    # --max-increase and --detect
    (["--candidate", BAD, "--max-increase", "abc"], "Cannot read the threshold --max-increase"),
    (["--candidate", BAD, "--max-increase", "-5%"], "positive"),
    (["--candidate", BAD, "--max-increase", "nan"], "finite"),
    (["--candidate", BAD, "--max-increase", "inf%"], "finite"),
    (["--candidate", BAD, "--max-increase", "1e400"], "finite"),
    (["--candidate", BAD, "--max-increase", "5000%"], "above"),
    (["--candidate", BAD, "--detect", "3%"], "not above the threshold"),
    (["--candidate", BAD, "--detect", "0"], "not above the threshold"),
    (["--candidate", BAD, "--detect", "x"], "Cannot read the --detect 'x'"),
    # --metric, --counter, --counter-tool
    (["--candidate", BAD, "--baseline", BAD, "--metric", "bogus"], "Unknown metric"),
    (["--candidate", BAD, "--baseline", BAD, "--metric", ""], "Unknown metric"),
    (["--counter", "cycles", "--repeat", "3", "--", "true"], "Unknown counter"),
    (["--counter", "instructions", "--candidate", BAD], "counts the runs it makes"),
    (["--counter", "instructions", "--metric", "energy", "--repeat", "3", "--", "true"], "not"),
    (
        ["--counter", "instructions", "--counter-tool", "oprofile", "--repeat", "3", "--", "true"],
        "Unknown counter tool",
    ),
    # references and tags
    (["--candidate", ""], "empty"),
    (["--candidate", "nosuch", "--baseline", BAD], "No run with id"),
    (["--candidate", BAD, "--baseline", ""], "empty"),
    (["--candidate", BAD, "--baseline", "a\x01b"], "control characters"),
    (["--candidate", BAD, "--baseline", "x" * 200], "too long"),
    (["--repeat", "3", "--tag-as", "", "--", "true"], "empty"),
    (["--repeat", "3", "--candidate", BAD, "--", "true"], "not both"),
    ([], "Nothing to compare"),
    # the baseline's problems show before any benchmark runs
    (["--baseline", "nosuch", "--repeat", "3", "--", "true"], "No run with id"),
    (["--baseline", BAD, "--metric", "instructions", "--repeat", "3", "--", "true"], "no"),
    (["--baseline", BAD, "--candidate", "run0001"], "at least 2 runs"),
    # zone and store
    (["--repeat", "3", "--zone", "XX-NOWHERE", "--", "true"], "XX-NOWHERE"),
]


@pytest.mark.parametrize(("args", "says"), HOSTILE, ids=[" ".join(a)[:60] for a, _ in HOSTILE])
def test_hostile_values_exit_2_with_one_sentence(monkeypatch, capsys, store, args, says):
    code, out, err = _cli(monkeypatch, capsys, store, "compare", *args)
    assert code == 2, (out, err)
    assert "Traceback" not in err and says in err
    assert len(open_store(str(store)).list_runs(limit=None)) == 5  # nothing was run


def test_a_store_that_is_not_there(monkeypatch, capsys, tmp_path):
    code, _, err = _cli(
        monkeypatch, capsys, tmp_path / "missing" / "v.db", "compare", "--baseline", "main",
        "--candidate", "main",
    )  # fmt: skip
    assert code == 2 and "no run store" in err.lower()


def test_perf_refused_where_the_machine_has_no_counter(monkeypatch, capsys, store):
    if perfcount.available() is None:
        pytest.skip("this machine has a hardware counter")
    args = ["--counter", "instructions", "--counter-tool", "perf", "--repeat", "3", "--", "true"]
    code, _, err = _cli(monkeypatch, capsys, store, "compare", *args)
    assert code == 2 and "Cannot count instructions with perf events here" in err


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")
def test_instruction_counter_end_to_end(tmp_path, monkeypatch, capsys):
    """Real processes under the real counter: a baseline tagged, a +20 % loop caught at n = 3,
    the counts stored as benchmark runs and comparable later."""
    db = tmp_path / "v.db"
    shell = ["/bin/sh", "-c"]
    done = vatio(
        "compare", "--counter", "instructions", "--repeat", "3", "--tag-as", "main", "--json",
        "--", *shell, LOOP.format(n=3000), store=db,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    recorded = json.loads(done.stdout)
    assert recorded["metric"] == "instructions" and recorded["n_needed_95"] == 3
    done = vatio(
        "compare", "--counter", "instructions", "--repeat", "3", "--baseline", "main", "--json",
        "--tag-as", "pr", "--", *shell, LOOP.format(n=3600), store=db,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["regression"] and verdict["label"] == "instruction-count proxy (not energy)"
    assert verdict["methods"][0] in ("counted:perf", "counted:cachegrind")
    assert 0.15 < verdict["effect"] < 0.25  # 20 % more loop turns, plus the shell's start-up
    assert verdict["noise"]["cv_baseline"] < 0.01 and verdict["noise"]["n_needed_95"] == 3
    run = open_store(str(db)).get(verdict["candidate_runs"][0])
    assert run["kind"] == "benchmark" if "kind" in run else run["summary"]["kind"] == "benchmark"
    counter = run["extensions"]["compare"]["counter"]
    assert counter["metric"] == "instructions" and counter["value"] > 0
    # stored counts compare later without re-running; the same runs are no regression
    args = ["compare", "--metric", "instructions", "--baseline", "pr", "--candidate", "pr"]
    code, out, _ = _cli(monkeypatch, capsys, db, *args)
    assert code == 0 and "no significant change" in out and "instruction-count proxy" in out


def test_repeat_auto_with_a_progress_bar(store):
    """Under a terminal, a progress bar; --repeat auto reports the n it needed."""
    master, slave = pty.openpty()
    env = env_for(store) | {"TERM": "xterm", "COLUMNS": "100"}
    args = ["compare", "--repeat", "auto", "--max-repeat", "3", "--metric", "duration",
            "--baseline", "main", "--", "true"]  # fmt: skip
    done = subprocess.run(
        [*VATIO, *args], stdout=subprocess.PIPE, stderr=slave, env=env, timeout=120, text=True
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    terminal = b"".join(chunks).decode(errors="replace")
    assert done.returncode == 0, terminal
    assert "measuring true" in terminal and "/3" in terminal
    assert "--repeat auto needed n = 3" in done.stdout and "noise: CV" in done.stdout
