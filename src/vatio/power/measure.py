"""All tracker use of `vatio power`, in one place (see RECORD_API.md).

A sweep measures either one run per setting (`run_measured`) or windows of
steps inside one run (`WindowMeter`: differences of sampler readings taken at
the step boundaries). Energy is kept per device with its method, and narrowed
to the devices the user asked for (`--devices gpu`): a GPU power-limit sweep
compares measured GPU joules, as Zeus does, instead of mixing them with a CPU
estimate. The sweep's section goes into the record as `extensions["power"]`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vatio.config import Profile
from vatio.measure.result import RunResult
from vatio.measure.sampler import CHILD_LATER, Totals
from vatio.measure.tracker import new_run_id, utc_iso
from vatio.process import Outcome, supervise
from vatio.record.tracker import RecordingTracker

SCOPES = ("all", "gpu", "cpu")
EXTENSION = "power"


@dataclass
class Energy:
    """Energy of one window or run in the chosen scope, with how it was obtained."""

    energy_j: float
    low_j: float
    high_j: float
    duration_s: float
    method: str
    by_device: dict[str, float] = field(default_factory=dict)

    @property
    def power_w(self) -> float | None:
        return self.energy_j / self.duration_s if self.duration_s > 0 else None


def in_scope(device: str, scope: str) -> bool:
    if scope == "all":
        return True
    if scope == "gpu":
        return device == "gpu"
    return device in ("cpu", "dram", "memory", "package")


def power_section(record: dict[str, Any]) -> dict[str, Any] | None:
    """The "power" section of a stored record."""
    section = (record.get("extensions") or {}).get(EXTENSION)
    return section if isinstance(section, dict) else None


def _tracker(
    profile: Profile,
    sources: dict[str, str],
    *,
    command: list[str],
    kind: str,
    parent_id: str | None,
    store: bool | str | None,
    name: str | None,
    sensors: list | None,
) -> RecordingTracker:
    """A tracker whose job is the child vatio spawns (named with `attach` once started)."""
    return RecordingTracker(
        name,
        profile=profile,
        profile_sources=sources,
        command=command,
        kind=kind,
        parent_id=parent_id,
        store=store,
        sensors=sensors,
        pid=CHILD_LATER,
    )


def _mark(tracker: RecordingTracker) -> Totals:
    sampler = tracker.sampler
    assert sampler is not None, "mark() before start()"
    return sampler.tick()


def _energy(sensors: list, before: Totals, after: Totals, scope: str, attribution: str) -> Energy:
    diff = after.minus(before)
    chosen = [s for s in sensors if in_scope(s.device, scope)]
    by_device: dict[str, float] = {}
    low = high = 0.0
    for sensor in chosen:
        reading = diff.machine[sensor.name]
        if attribution == "process":
            joules = diff.process.get(sensor.name, 0.0)
            share = joules / reading.energy_j if reading.energy_j > 0 else 0.0
            low += reading.low_j * share
            high += reading.high_j * share
        else:
            joules = reading.energy_j
            low += reading.low_j
            high += reading.high_j
        by_device[sensor.name] = joules
    methods = "+".join(sorted({s.method for s in chosen})) or "none"
    return Energy(sum(by_device.values()), low, high, diff.wall, methods, by_device)


class WindowMeter:
    """One tracked run of the whole job; energy between any two marks."""

    def __init__(
        self,
        profile: Profile,
        sources: dict[str, str],
        *,
        command: list[str],
        scope: str = "all",
        attribution: str = "machine",
        store: bool | str | None = None,
        name: str | None = None,
        sensors: list | None = None,
    ) -> None:
        self.scope, self.attribution = scope, attribution
        self.tracker = _tracker(
            profile,
            sources,
            command=command,
            kind="power-sweep",
            parent_id=None,
            store=store,
            name=name,
            sensors=sensors,
        )

    @property
    def run_id(self) -> str:
        return self.tracker.run_id

    def start(self) -> None:
        self.tracker.start()

    def attach(self, pid: int) -> None:
        """The job's process, once spawned: its tree is what `--attribution process` counts."""
        self.tracker.attach(pid)

    def mark(self) -> Totals:
        return _mark(self.tracker)

    def energy(self, before: Totals, after: Totals) -> Energy:
        return _energy(self.tracker.sensors, before, after, self.scope, self.attribution)

    def methods(self) -> str:
        chosen = [s for s in self.tracker.sensors if in_scope(s.device, self.scope)]
        return "+".join(sorted({s.method for s in chosen})) or "none"

    def finish(self, outcome: Outcome | None, section: dict[str, Any]) -> dict[str, Any]:
        self.tracker.set_extension(EXTENSION, section)
        if outcome is None:
            self.tracker.stop("failed", error="vatio: the sweep failed")
        else:
            self.tracker.stop(outcome.status, exit_code=outcome.exit_code, error=outcome.error)
        return _stored(self.tracker)


@dataclass
class RunMeasurement:
    energy: Energy
    outcome: Outcome
    run_id: str
    store_error: str | None


def run_measured(
    command: list[str],
    *,
    env: dict[str, str],
    profile: Profile,
    sources: dict[str, str],
    parent_id: str,
    name: str,
    scope: str,
    attribution: str,
    store: bool | str | None,
    timeout_s: float | None,
    sensors: list | None = None,
    on_spawn: Callable[[Any], Callable[[], None] | None] | None = None,
    before_spawn: Callable[[], Callable[[], None]] | None = None,
    stdout: Any = None,
    identity: dict[str, Any] | None = None,
    setting: dict[str, Any] | None = None,
) -> RunMeasurement:
    """Run the job once under the tracker (kind "power", child of the sweep's record)."""
    tracker = _tracker(
        profile,
        sources,
        command=command,
        kind="power",
        parent_id=parent_id,
        store=store,
        name=name,
        sensors=sensors,
    )
    tracker.set_extension(EXTENSION, {"sweep_id": parent_id, "setting": setting or {}})
    tracker.start()
    first = _mark(tracker)

    def spawned(child: Any) -> Callable[[], None] | None:
        tracker.attach(child.pid)
        return on_spawn(child) if on_spawn else None

    undo = before_spawn() if before_spawn else None
    try:
        outcome = supervise(
            command,
            env=env,
            timeout_s=timeout_s,
            on_spawn=spawned,
            stdout=stdout,
            identity=identity,
        )
    except BaseException as error:
        tracker.stop("failed", error=f"vatio: {error!r}")
        raise
    finally:
        if undo is not None:
            undo()
    last = _mark(tracker)
    energy = _energy(tracker.sensors, first, last, scope, attribution)
    result = tracker.stop(outcome.status, exit_code=outcome.exit_code, error=outcome.error)
    return RunMeasurement(energy, outcome, result.id, tracker.store_error)


def _stored(tracker: RecordingTracker) -> dict[str, Any]:
    unsaved = tracker.unsaved_path
    return {
        "run_id": tracker.run_id,
        "store": tracker.store_url,
        "store_error": tracker.store_error,
        "unsaved": str(unsaved) if unsaved else None,
    }


class SweepRecord:
    """The job-mode sweep's own record (kind "power-sweep"): the section, no energy of its
    own (each setting's run has it), so summing runs counts nothing twice."""

    def __init__(self, profile: Profile, command: list[str], name: str | None, store: bool) -> None:
        self.id = new_run_id()
        self.recorder: Any = None
        self.error: str | None = None
        self.url: str | None = None
        self._t0 = time.monotonic()
        self.result = RunResult(
            id=self.id,
            name=name or "power sweep",
            command=command,
            status="running",
            started_at=utc_iso(time.time()),
        )
        if not store:
            return
        try:
            from vatio.record.context import RecordContext
            from vatio.record.recorder import Recorder

            context = RecordContext.build(profile, {}, kind="power-sweep", cwd=Path.cwd())
            self.url = context.store_url
            self.recorder = Recorder(context)
            self.recorder.begin(self.result)
        except Exception as error:  # the sweep still runs; the report says where it went
            self.error = str(error)
            self.recorder = None

    def finish(self, status: str, section: dict[str, Any]) -> dict[str, Any]:
        self.result.status = status
        self.result.ended_at = utc_iso(time.time())
        self.result.duration_s = time.monotonic() - self._t0
        from vatio.record.extensions import checked_section

        self.result.extensions[EXTENSION] = checked_section(EXTENSION, section)
        if self.recorder is not None:
            try:
                outcome = self.recorder.record([self.result])
                self.error = outcome.store_error
            except Exception as error:
                self.error = str(error)
        return {"run_id": self.id, "store": self.url, "store_error": self.error, "unsaved": None}
