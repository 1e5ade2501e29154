"""All tracker use of `vatio power`, in one place (see RECORD_API.md).

A sweep measures either one run per setting (`run_measured`) or windows of
steps inside one run (`WindowMeter`: differences of sampler readings taken at
the step boundaries). Energy is kept per device with its method, and narrowed
to the devices the user asked for (`--devices gpu`): a GPU power-limit sweep
compares measured GPU joules, as Zeus does, instead of mixing them with a CPU
estimate.

TODO(record): switch to vatio.record.RecordingTracker (kind, parent_id,
set_extension("power", ...), on_finish) once it is on main; until then the
section rides in the stored profile under "power" and windows read the sampler
through the tracker subclass below.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vatio.api import Tracker
from vatio.config import Profile
from vatio.measure.result import RunResult
from vatio.measure.sampler import Totals
from vatio.measure.tracker import new_run_id, utc_iso
from vatio.process import Outcome, supervise

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


class _PowerTracker(Tracker):
    """The api Tracker plus a sampler reading on demand and the "power" section."""

    extension: dict[str, Any] | None = None

    def totals(self) -> Totals:
        assert self._sampler is not None
        return self._sampler.tick()

    def _on_finish(self, result: RunResult) -> None:
        if self.extension is not None:
            attach_extension(result, self.extension)
        super()._on_finish(result)


def attach_extension(result: RunResult, section: dict[str, Any]) -> None:
    extensions = getattr(result, "extensions", None)
    if isinstance(extensions, dict):  # the record layer is there
        extensions[EXTENSION] = section
        return
    result.profile = {**(result.profile or {}), EXTENSION: section}


def power_section(record: dict[str, Any]) -> dict[str, Any] | None:
    """The "power" section of a stored record, wherever this version keeps it."""
    section = (record.get("extensions") or {}).get(EXTENSION)
    if section is None:
        section = (record.get("profile") or {}).get(EXTENSION)
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
) -> _PowerTracker:
    tracker = _PowerTracker(
        profile=profile,
        profile_sources=sources,
        command=command,
        kind=kind,
        parent_id=parent_id,
        store=store,
        sensors=sensors,
    )
    if name:
        tracker.name = name
    return tracker


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

    def mark(self) -> Totals:
        return self.tracker.totals()

    def energy(self, before: Totals, after: Totals) -> Energy:
        return _energy(self.tracker.sensors, before, after, self.scope, self.attribution)

    def methods(self) -> str:
        chosen = [s for s in self.tracker.sensors if in_scope(s.device, self.scope)]
        return "+".join(sorted({s.method for s in chosen})) or "none"

    def finish(self, outcome: Outcome | None, section: dict[str, Any]) -> dict[str, Any]:
        self.tracker.extension = section
        if outcome is None:
            result = self.tracker.stop("failed", error="vatio: the sweep failed")
        else:
            result = self.tracker.stop(
                outcome.status, exit_code=outcome.exit_code, error=outcome.error
            )
        return _stored(result, self.tracker)


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
    tracker.start()
    first = tracker.totals()
    undo = before_spawn() if before_spawn else None
    try:
        outcome = supervise(
            command,
            env=env,
            timeout_s=timeout_s,
            on_spawn=on_spawn,
            stdout=stdout,
            identity=identity,
        )
    except BaseException as error:
        tracker.stop("failed", error=f"vatio: {error!r}")
        raise
    finally:
        if undo is not None:
            undo()
    last = tracker.totals()
    energy = _energy(tracker.sensors, first, last, scope, attribution)
    result = tracker.stop(outcome.status, exit_code=outcome.exit_code, error=outcome.error)
    return RunMeasurement(energy, outcome, result.id, getattr(tracker, "store_error", None))


def _stored(result: RunResult, tracker: Tracker) -> dict[str, Any]:
    return {
        "run_id": result.id,
        "store": getattr(tracker, "store_url", None),
        "store_error": getattr(tracker, "store_error", None),
        "unsaved": str(tracker.unsaved_path) if getattr(tracker, "unsaved_path", None) else None,
    }


class SweepRecord:
    """The job-mode sweep's own record (kind "power-sweep"): the section, no energy of its
    own (each setting's run has it), so summing runs counts nothing twice."""

    def __init__(self, profile: Profile, command: list[str], name: str | None, store: bool) -> None:
        self.id = new_run_id()
        self.store = None
        self.error: str | None = None
        self.url: str | None = None
        self._t0 = time.monotonic()
        self.result = RunResult(
            id=self.id,
            name=name or "power sweep",
            command=command,
            status="running",
            started_at=utc_iso(time.time()),
            profile=profile.model_dump(mode="json"),
        )
        if not store:
            return
        try:
            from vatio.store.location import resolve_url
            from vatio.store.runstore import RunStore

            self.url = resolve_url(profile.store, Path.cwd())
            self.store = RunStore(self.url)
            self.store.begin(self.result, kind="power-sweep")
        except Exception as error:  # the sweep still runs; the report says where it went
            self.error = str(error)
            self.store = None

    def finish(self, status: str, section: dict[str, Any]) -> dict[str, Any]:
        self.result.status = status
        self.result.ended_at = utc_iso(time.time())
        self.result.duration_s = time.monotonic() - self._t0
        attach_extension(self.result, section)
        if self.store is not None:
            try:
                self.store.finish(self.result, kind="power-sweep")
            except Exception as error:
                self.error = str(error)
        return {"run_id": self.id, "store": self.url, "store_error": self.error, "unsaved": None}
