"""The pytest plugin's gate fails closed: bad options and unusable baselines stop it."""

from __future__ import annotations

import pytest

# imported here, outside pytester's inline runs (which unload what they import: SQLAlchemy's
# compiled parts do not survive being imported twice)
import vatio.record.recorder
import vatio.testing.session  # noqa: F401
from vatio.store.runstore import open_store

pytest_plugins = ["pytester"]

OK = "def test_ok():\n    assert True\n"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--vatio-max-increase", "abc"], "--vatio-max-increase 'abc'"),
        (["--vatio-max-increase", "nan%"], "--vatio-max-increase"),
        (["--vatio-max-increase", "-5%"], "--vatio-max-increase"),
        (["--vatio-max-increase", "1e400"], "--vatio-max-increase"),
        (["--vatio-min-joules", "-5"], "--vatio-min-joules -5.0"),
        (["--vatio-min-joules", "inf"], "--vatio-min-joules"),
        (["--vatio-min-joules", "abc"], "invalid float value"),
        (["--vatio-top", "-1"], "--vatio-top -1"),
        (["--vatio-top", "99999999999999999999"], "--vatio-top"),
        (["--vatio-baseline", " "], "--vatio-baseline"),
        (["--vatio-fail-on-regression", "--vatio-baseline", "main"], "needs --vatio:"),
        (["--vatio", "--vatio-fail-on-regression"], "needs --vatio-baseline"),
        (["--vatio", "--vatio-zone", "XX-NOPE"], "Unknown grid zone 'XX-NOPE'"),
    ],
)
def test_bad_options_stop_at_start_up(pytester, args, says):
    """In-process run: a usage error (exit 4) with one sentence naming the option."""
    pytester.makepyfile(OK)
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert says in result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert "1 passed" not in result.stdout.str()  # no test ran


def _runs(pytester, *args):
    """In process (seconds faster than a subprocess on a busy machine)."""
    return pytester.runpytest(*args)


def test_missing_baseline_fails_closed(pytester):
    pytester.makepyfile(OK)
    store = pytester.path / "v.db"
    common = ["--vatio", f"--vatio-store={store}"]
    # no store at all yet
    result = _runs(pytester, *common, "--vatio-baseline", "main", "--vatio-fail-on-regression")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "baseline 'main' cannot be used" in result.stderr.str()
    assert "no run store" in result.stderr.str().lower()
    _runs(pytester, *common, "--vatio-tag", "main").assert_outcomes(passed=1)
    # the store exists now, the tag does not
    result = _runs(pytester, *common, "--vatio-baseline", "nosuchtag", "--vatio-fail-on-regression")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "nosuchtag" in result.stderr.str() and "passed" not in result.stdout.str()
    # a tag on something that is not a pytest session
    runs = open_store(str(store)).list_runs(limit=None, kind="test")
    open_store(str(store)).tag(runs[0]["id"], "atest")
    result = _runs(pytester, *common, "--vatio-baseline", "atest", "--vatio-fail-on-regression")
    assert result.ret == pytest.ExitCode.USAGE_ERROR and "not a pytest session" in (
        result.stderr.str()
    )
    # without --vatio-fail-on-regression: the tests run, and the summary says it loudly
    result = _runs(pytester, *common, "--vatio-baseline", "nosuchtag")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*WARNING: NO REGRESSION CHECK*nosuchtag*"])
