import json

import pytest

from tests.cli.helpers import vatio
from tests.report.records import save
from vatio.measure.result import DeviceEnergy, RunResult
from vatio.store.runstore import open_store

pytestmark = pytest.mark.e2e


def _fake_run(i: int, joules: float) -> RunResult:
    return RunResult(
        id=f"run{i:04d}",
        name="bench",
        command=["bench"],
        status="completed",
        started_at=f"2026-01-01T00:00:{i:02d}Z",
        ended_at=f"2026-01-01T00:00:{i:02d}Z",
        duration_s=1.0,
        devices=[DeviceEnergy("cpu:x", "cpu", "measured:rapl", joules, joules, joules, joules)],
    )


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "v.db"
    base = [100, 101, 99, 100.5, 99.5]
    groups = (
        (0, base, "main"),
        (10, [v * 1.25 for v in base], "slow"),
        (20, [100.3, 99.7, 100.8, 99.2, 100.1], "same"),
    )
    for start, values, tag in groups:
        for i, joules in enumerate(values, start=start):
            save(path, _fake_run(i, joules))
            open_store(str(path)).tag(f"run{i:04d}", tag)
    return path


def test_regression_exits_1_and_noise_exits_0(store):
    slow = vatio("compare", "--baseline", "main", "--candidate", "slow", "--json", store=store)
    assert slow.returncode == 1
    verdict = json.loads(slow.stdout)
    assert verdict["regression"] and verdict["ci_low"] > 0.05
    same = vatio("compare", "--baseline", "main", "--candidate", "same", store=store)
    assert same.returncode == 0 and "no significant change" in same.stdout


def test_bad_input(store):
    done = vatio("compare", "--baseline", "main", store=store)
    assert done.returncode == 2 and "Nothing to compare" in done.stderr
    done = vatio("compare", "--baseline", "nope", "--candidate", "slow", store=store)
    assert done.returncode == 2 and "No run with id" in done.stderr
    done = vatio("compare", "--baseline", "main", "--candidate", "run0010", store=store)
    assert done.returncode == 2 and "at least 2 runs" in done.stderr


def test_repeat_runs_the_command_and_tags_it(tmp_path):
    store = tmp_path / "v.db"
    done = vatio(
        "compare", "--repeat", "2", "--tag-as", "main", "--", "python3", "-c", "pass", store=store
    )
    assert done.returncode == 0, done.stderr
    assert len(open_store(str(store)).tagged("main")) == 2
