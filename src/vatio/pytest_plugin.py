"""pytest plugin: per-test energy, stored as runs, with a regression check.

Opt in with `pytest --vatio`. Off, it costs one import of this small module.
On, one sampler runs for the whole session and each test boundary takes one
synchronous reading (a fraction of a millisecond); the runs are written to the
store in one transaction at the end.
"""

from __future__ import annotations

from typing import Any

import pytest

_session_key = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vatio", "energy of each test (vatio)")
    group.addoption("--vatio", action="store_true", help="Measure and store each test's energy.")
    group.addoption("--vatio-zone", default=None, help="Grid zone for carbon (else the profile).")
    group.addoption("--vatio-store", default=None, help="Run store (else the profile / default).")
    group.addoption(
        "--vatio-baseline", default=None, help="Tag or session run id to compare tests against."
    )
    group.addoption(
        "--vatio-max-increase", default="20%", help="Per-test increase that counts as regression."
    )
    group.addoption(
        "--vatio-min-joules",
        type=float,
        default=1.0,
        help="Ignore tests below this energy in the regression check (noise floor).",
    )
    group.addoption(
        "--vatio-fail-on-regression", action="store_true", help="Exit 1 when a test regressed."
    )
    group.addoption("--vatio-tag", default=None, help="Tag this session run (e.g. main).")
    group.addoption("--vatio-top", type=int, default=10, help="Tests shown in the summary.")


def pytest_configure(config: pytest.Config) -> None:
    from vatio.testing.options import check_options

    options = check_options(config)  # bad values stop here (exit 4), before any test runs
    if not options.enabled:
        if options.baseline:
            config.issue_config_time_warning(
                pytest.PytestConfigWarning(
                    "vatio: --vatio-baseline is ignored without --vatio; "
                    "no regression check is done"
                ),
                stacklevel=2,
            )
        return
    from vatio.errors import VatioError
    from vatio.testing.session import EnergySession

    try:
        session = EnergySession(config, options)
    except VatioError as error:
        raise pytest.UsageError(f"vatio: {error}") from None
    config.stash[_session_key] = session


def _session(config: pytest.Config) -> Any | None:
    return config.stash.get(_session_key, None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    session = _session(item.config)
    if session is None:
        yield
        return
    before = session.mark()
    yield
    session.record(item.nodeid, before, session.mark())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    session = _session(item.config)
    if session is not None:
        report = outcome.get_result()
        if report.failed or (report.when == "call" and report.skipped):
            session.outcomes[item.nodeid] = "failed" if report.failed else "skipped"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    energy = _session(session.config)
    if energy is None:
        return
    energy.finish(exitstatus)
    if energy.options.fail_on_regression:
        if energy.gate_error:  # the baseline could not be read at the end: fail closed
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        elif energy.regressions:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    energy = _session(config)
    if energy is not None:

        def write(line: str) -> None:
            loud = line.lstrip().startswith(("REGRESSION", "GATE FAILED", "WARNING"))
            terminalreporter.write_line(line, red=loud, bold=loud)

        energy.summarise(write)
