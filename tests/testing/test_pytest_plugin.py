"""The pytest plugin, run for real inside pytest's own pytester."""

from __future__ import annotations

import pytest

from vatio.store.runstore import open_store

pytest_plugins = ["pytester"]

TESTS = """
import time

def test_busy():
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:
        pass

def test_fails():
    assert False
"""


def test_off_by_default_and_no_runs(pytester):
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)
    assert "vatio: energy per test" not in result.stdout.str()


def test_per_test_energy_is_stored_and_summarised(pytester):
    pytester.makepyfile(TESTS)
    store = pytester.path / "v.db"
    result = pytester.runpytest_subprocess(
        "--vatio", "--vatio-zone", "ES",
        f"--vatio-store={store}", "--vatio-tag", "main",
    )  # fmt: skip
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*vatio: energy per test*", "*test_busy*"])
    runs = open_store(str(store)).list_runs(limit=None)
    kinds = sorted(r["kind"] for r in runs)
    assert kinds == ["test", "test", "test-session"]
    by_name = {r["name"]: r for r in runs}
    busy = by_name["test_per_test_energy_is_stored_and_summarised.py::test_busy"]
    assert busy["status"] == "completed" and busy["energy_j"] > 0 and busy["co2e_g"] > 0
    assert by_name["test_per_test_energy_is_stored_and_summarised.py::test_fails"]["status"] == (
        "failed"
    )


def test_baseline_regression_fails_when_asked(pytester):
    pytester.makepyfile(TESTS)
    store = pytester.path / "v.db"
    common = ["--vatio", f"--vatio-store={store}"]
    pytester.runpytest_subprocess(*common, "--vatio-tag", "main", "-k", "busy")
    pytester.makepyfile(TESTS.replace("0.3", "0.9"))
    result = pytester.runpytest_subprocess(
        *common, "--vatio-baseline", "main", "--vatio-min-joules", "0.01",
        "--vatio-fail-on-regression", "-k", "busy",
    )  # fmt: skip
    result.stdout.fnmatch_lines(["*REGRESSION*test_busy*"])
    assert result.ret == 1


@pytest.mark.parametrize("flag", [[], ["--vatio"]])
def test_plugin_smoke(pytester, flag):
    pytester.makepyfile("def test_ok():\n    assert True\n")
    pytester.runpytest_subprocess(*flag).assert_outcomes(passed=1)


def test_an_unwritable_store_keeps_the_sessions_figures_and_says_where(pytester):
    pytester.makepyfile(TESTS)
    junk = pytester.path / "junk.db"
    junk.write_text("not a database: the store cannot be opened at the end of the session")
    result = pytester.runpytest_subprocess("--vatio", f"--vatio-store={junk}")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "not stored in the run store" in out and "(3 runs) are saved in" in out
    saved = next(pytester.path.glob(".vatio/unsaved/*.json"))
    import json

    records = json.loads(saved.read_text())["records"]
    assert {r["kind"] for r in records} == {"test-session", "test"} and len(records) == 3
