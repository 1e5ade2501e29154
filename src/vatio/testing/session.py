"""One sampler for a whole pytest session, with a reading at every test boundary."""

from __future__ import annotations

import os
from typing import Any

from vatio.measure.result import DeviceEnergy, RunResult
from vatio.measure.sampler import Sampler, Totals
from vatio.measure.tracker import device_energies, new_run_id, utc_iso


class EnergySession:
    """Per-test energy; stored as runs of kind "test" under one "test-session" run."""

    def __init__(self, config: Any, options: Any) -> None:
        from vatio.config import load_profile
        from vatio.devices.discovery import discover

        self.config = config
        self.options = options
        self.profile, self.sources = load_profile(
            overrides={
                "zone": config.getoption("vatio_zone"),
                "store": config.getoption("vatio_store"),
            }
        )
        from vatio.record.context import RecordContext

        # a bad zone or store location stops the session now, not after the tests ran
        self.context = RecordContext.build(self.profile, self.sources, kind="test-session")
        #: why the baseline comparison could not be done (loud; fatal under fail-on-regression)
        self.gate_error: str | None = None
        if options.baseline:
            self._check_baseline()
        found = discover(
            cpu_tdp_w=self.profile.cpu_tdp_w, memory_w_per_gb=self.profile.memory_w_per_gb
        )
        self.sensors = found.sensors
        self.sampler = Sampler(self.sensors, self.profile.interval, pid=os.getpid())
        self.start = self.sampler.start()
        self.session_id = new_run_id()
        self.tests: list[RunResult] = []
        self.outcomes: dict[str, str] = {}
        self.regressions: list[dict[str, Any]] = []
        self.baseline_note: str | None = None
        self.result: RunResult | None = None
        self.store_error: str | None = None
        self.unsaved: list[str] = []

    def _check_baseline(self) -> None:
        """Before any test runs: the baseline must exist and be a test session."""
        import pytest

        from vatio.errors import VatioError
        from vatio.testing.options import check_baseline

        try:
            check_baseline(self.profile.store, self.options.baseline)
        except VatioError as error:
            problem = f"the baseline {self.options.baseline!r} cannot be used: {error}"
            if self.options.fail_on_regression:
                raise pytest.UsageError(f"vatio: {problem}") from None
            self.gate_error = problem
            self.config.issue_config_time_warning(
                pytest.PytestConfigWarning(
                    f"vatio: {problem}; per-test regressions will NOT be checked "
                    "(--vatio-fail-on-regression makes this an error)"
                ),
                stacklevel=2,
            )

    def mark(self) -> Totals:
        return self.sampler.tick()

    def record(self, nodeid: str, before: Totals, after: Totals) -> None:
        diff = after.minus(before)
        result = RunResult(
            id=new_run_id(),
            name=nodeid,
            command=None,
            status="running",
            started_at=utc_iso(before.wall),
            ended_at=utc_iso(after.wall),
            duration_s=diff.wall,
            devices=self._devices(diff),
        )
        self.tests.append(result)

    def _devices(self, diff: Totals) -> list[DeviceEnergy]:
        return device_energies(self.sensors, diff, details=False)

    # -- end of session ---------------------------------------------------------
    def finish(self, exitstatus: int) -> None:
        end = self.sampler.stop()
        for sensor in self.sensors:
            sensor.close()
        for test in self.tests:
            outcome = self.outcomes.get(test.name or "", "passed")
            test.status = {"failed": "failed", "skipped": "completed"}.get(outcome, "completed")
            test.work = {}
        diff = end.minus(self.start)
        timeline = self.sampler.timeline
        self.result = RunResult(
            id=self.session_id,
            name="pytest session",
            command=["pytest", *self.config.invocation_params.args],
            status="completed" if exitstatus == 0 else "failed",
            exit_code=int(exitstatus),
            started_at=utc_iso(self.start.wall),
            ended_at=utc_iso(end.wall),
            duration_s=diff.wall,
            devices=self._devices(diff),
            hourly=[
                {"hour": utc_iso(hour), "energy": bucket.energy}
                for hour, bucket in sorted(timeline.hours.items())
            ],
            overhead={"cpu_s": diff.overhead_cpu_s, "energy_j": sum(diff.overhead.values())},
        )
        self._compare_with_baseline()
        self.result.extensions["pytest"] = {
            "tests": len(self.tests),
            "outcomes": dict(self.outcomes),
            "baseline": self.config.getoption("vatio_baseline"),
            "baseline_note": self.baseline_note,
            "gate_error": self.gate_error,
            "regressions": self.regressions,
        }
        self._save()

    def _store(self):
        from vatio.store.runstore import open_store

        return open_store(self.profile.store, readonly=True)

    def _save(self) -> None:
        """The session and its tests through the one recording path (one checkpoint)."""
        from vatio.errors import VatioError
        from vatio.record.recorder import Recorder

        assert self.result is not None
        context = self.context
        placements = [("test-session", None)] + [("test", self.session_id)] * len(self.tests)
        outcome = Recorder(context).record([self.result, *self.tests], placements=placements)
        self.store_error = outcome.store_error
        self.unsaved = outcome.unsaved
        tag = self.config.getoption("vatio_tag")
        if tag and outcome.store_error is None:
            try:
                Recorder(context).open_store().tag(self.session_id, tag)
            except VatioError as error:
                self.store_error = error.message

    def _compare_with_baseline(self) -> None:
        from vatio.testing.regression import find_regressions

        ref = self.options.baseline
        if not ref or self.gate_error:
            return
        from vatio.errors import VatioError

        try:
            self.regressions, self.baseline_note = find_regressions(
                self._store(), ref, self.tests, self.options.threshold, self.options.min_joules
            )
        except VatioError as error:
            self.gate_error = f"the baseline {ref!r} cannot be used: {error}"

    def summarise(self, write) -> None:
        from vatio.testing.regression import summary_lines

        for line in summary_lines(self):
            write(line)
