"""Every use of vatio's trackers by federated learning, in one place.

Two kinds of measurement:

* **calls** (`CallMeter`): one ClientApp message or one server round, measured
  inside the process that does the work, energy only (nothing is stored); the
  figure travels signed in the update and lands in the ledger at round time.
* **process trees** (`TreeRecorder`): each party of the run (server host,
  client hosts) measured from the launcher as a whole process tree, SuperLink
  or SuperNode and task processes included, and recorded as a run of kind
  "fl-server" / "fl-client" whose parent is the run of kind "fl" that covers
  the launcher's whole tree (the machine's share of the federated run).
  Centralised baselines are recorded as kind "fl-central".
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

#: sensors discovered once per process (hosts do it before forking their task processes)
_SENSORS: list[Any] | None = None


def discover_sensors() -> list[Any]:
    global _SENSORS
    if _SENSORS is None:
        from vatio.devices.discovery import discover

        _SENSORS = discover().sensors
    return _SENSORS


def energy_summary(devices: list[Any], *, process: bool = True) -> dict[str, Any]:
    """Energy of a measured span: the process share (or the machine's), with method and range."""
    total = low = high = 0.0
    methods: list[str] = []
    for d in devices:
        machine = d.energy_j
        part = d.process_energy_j if process and d.process_energy_j is not None else machine
        share = part / machine if machine > 0 else 0.0
        total += part
        low += d.low_j * share
        high += d.high_j * share
        if d.method not in methods:
            methods.append(d.method)
    return {
        "energy_j": total,
        "low_j": low,
        "high_j": high,
        "method": "+".join(methods) if methods else None,
        "scope": "process" if process else "machine",
    }


@dataclass
class CallMeasure:
    wall_s: float = 0.0
    cpu_s: float = 0.0
    energy: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"wall_s": self.wall_s, "cpu_s": self.cpu_s, **self.energy}


class CallMeter:
    """One sampler for this process, started on first use; each call is the span of two ticks."""

    _instance: CallMeter | None = None

    def __init__(self, interval_s: float = 0.5) -> None:
        from vatio.measure.sampler import Sampler

        self.pid = os.getpid()
        self.sensors = discover_sensors()
        self.sampler = Sampler(self.sensors, interval_s, pid=self.pid, max_points=64)
        self.sampler.start()

    @classmethod
    def here(cls) -> CallMeter:
        """The meter of this process (a forked child gets its own on first use)."""
        if cls._instance is None or cls._instance.pid != os.getpid():
            cls._instance = cls()
        return cls._instance

    def mark(self) -> tuple[Any, float, float]:
        """A point to measure from (see `since`)."""
        return self.sampler.tick(), time.perf_counter(), time.process_time()

    def since(self, mark: tuple[Any, float, float]) -> CallMeasure:
        """What this process did since `mark`: wall, CPU time and its energy share."""
        before, wall0, cpu0 = mark
        return CallMeasure(
            time.perf_counter() - wall0,
            time.process_time() - cpu0,
            span_energy(self.sensors, self.sampler.tick().minus(before)),
        )

    @contextmanager
    def measure(self) -> Iterator[CallMeasure]:
        """Wall time, CPU time of this process and its energy share over the block."""
        out = CallMeasure()
        before = self.sampler.tick()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        try:
            yield out
        finally:
            out.wall_s = time.perf_counter() - wall0
            out.cpu_s = time.process_time() - cpu0
            out.energy = span_energy(self.sensors, self.sampler.tick().minus(before))


def span_energy(sensors: list[Any], diff: Any) -> dict[str, Any]:
    """This process's energy between two sampler ticks, its range scaled alike, and methods."""
    total = low = high = 0.0
    for sensor in sensors:
        machine = diff.machine[sensor.name]
        part = diff.process.get(sensor.name, machine.energy_j)
        share = part / machine.energy_j if machine.energy_j > 0 else 0.0
        total += part
        low += machine.low_j * share
        high += machine.high_j * share
    methods = sorted({s.method for s in sensors})
    return {
        "energy_j": total,
        "low_j": low,
        "high_j": high,
        "method": "+".join(methods) if methods else None,
        "scope": "process",
    }


@contextmanager
def measure_call() -> Iterator[CallMeasure]:
    """Measure a block of this process (see CallMeter)."""
    with CallMeter.here().measure() as out:
        yield out


# -- whole process trees ----------------------------------------------------------------
class TreeRecorder:
    """One recorded run per process tree (launcher, server host, client hosts)."""

    def __init__(
        self,
        *,
        zone: str | None = None,
        store: bool = True,
        name: str = "fl",
        parent_id: str | None = None,
    ) -> None:
        self.zone = zone
        self.store = store
        self.name = name
        self.parent_id = parent_id
        self.trackers: dict[str, Any] = {}
        self.results: dict[str, Any] = {}
        self.extensions: dict[str, dict[str, Any]] = {}

    def _tracker(self, name: str, kind: str, pid: int | None, parent_id: str | None, zone):
        from vatio.record import RecordingTracker

        return RecordingTracker(
            name,
            zone=zone,
            store=None if self.store else False,
            kind=kind,
            parent_id=parent_id,
            pid=pid,
            interval_s=0.5,
        )

    def start_run(self) -> str:
        """The parent run (kind "fl"): the launcher's whole tree; returns its id."""
        tracker = self._tracker(self.name, "fl", os.getpid(), None, self.zone)
        self.trackers["run"] = tracker
        tracker.start()
        return tracker.run_id

    @property
    def run_id(self) -> str:
        if "run" not in self.trackers and self.parent_id is not None:
            return self.parent_id
        return self.trackers["run"].run_id

    def start_party(self, key: str, kind: str, pid: int, zone: str | None = None) -> str:
        tracker = self._tracker(f"{self.name}/{key}", kind, pid, self.run_id, zone or self.zone)
        self.trackers[key] = tracker
        tracker.start()
        return tracker.run_id

    def set_schedule(self, plan: dict[str, Any]) -> None:
        """The green-hours plan the run followed, in the parent run's record."""
        self.trackers["run"].set_extension("schedule", plan)

    def add_artifact(self, key: str, path: Any, role: str) -> None:
        """A file the run produced (the final model), so `vatio provenance FILE` finds it."""
        self.trackers[key].add_artifact(path, role)

    def set_extension(self, key: str, name: str, section: dict[str, Any]) -> None:
        """Attach a typed section to one party's record (applied when it stops)."""
        self.extensions.setdefault(key, {})[name] = section

    def stop(self, key: str, status: str = "completed", exit_code: int | None = 0) -> Any:
        tracker = self.trackers[key]
        for name, section in self.extensions.get(key, {}).items():
            tracker.set_extension(name, section)
        result = tracker.stop(status=status, exit_code=exit_code)
        self.results[key] = result
        return result

    def stop_all(self, status: str = "completed") -> None:
        for key in list(self.trackers):
            if key not in self.results and key != "run":
                self.stop(key, status)
        if "run" in self.trackers and "run" not in self.results:
            self.stop("run", status)


def window_energy(timeline: dict[str, Any] | None, start: float, end: float) -> float | None:
    """Process energy (J) of a recorded run between two epoch times, from its timeline."""
    if not timeline or end <= start:
        return None
    total = 0.0
    for t0, t1, power in zip(
        timeline["t0"], timeline["t1"], timeline["process_power_w"], strict=False
    ):
        overlap = min(t1, end) - max(t0, start)
        if overlap > 0:
            total += power * overlap
    return total


def record_summary(result: Any) -> dict[str, Any]:
    """What an FL summary keeps of one recorded run: id, energy (process tree), carbon, time."""
    summary = energy_summary(result.devices)
    machine = energy_summary(result.devices, process=False)
    carbon = result.carbon or {}
    return {
        "run_id": result.id,
        "status": result.status,
        "duration_s": result.duration_s,
        **summary,
        "machine_energy_j": machine["energy_j"],
        "co2e_g": carbon.get("process_co2e_g", carbon.get("co2e_g")),
        "zone": (result.profile or {}).get("zone"),
        "cpu_utilisation": (result.sampler or {}).get("cpu_utilisation"),
        "timeline": result.timeline,
    }
