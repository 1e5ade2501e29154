"""Tracker: start/stop/phase around any code, as a context manager or decorator.

This layer measures energy only. Carbon, the manifest, redaction and the run
store are added by the recorder (`vatio.record`), which listens through the
public `on_start` / `on_finish` callbacks, so that lower layers never import
higher ones. vatio's own CPU time is measured and reported apart (`overhead`),
never charged to the job or to a phase.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import psutil

from vatio.devices.common import EnergySensor
from vatio.measure.result import DeviceEnergy, PhaseResult, RunResult
from vatio.measure.sampler import Sampler, Totals

F = TypeVar("F", bound=Callable[..., Any])
Callback = Callable[[RunResult], None]


@dataclass(frozen=True)
class Clock:
    """Where the tracker reads time; tests inject a clock that the sensors also follow."""

    wall: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic


SYSTEM_CLOCK = Clock()


def utc_iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def device_energies(
    sensors: list[EnergySensor], diff: Totals, *, has_process: bool = True, details: bool = True
) -> list[DeviceEnergy]:
    """Per-sensor energy between two readings, with each sensor's method and errors."""
    return [
        DeviceEnergy(
            name=s.name,
            device=s.device,
            method=s.method,
            energy_j=diff.machine[s.name].energy_j,
            low_j=diff.machine[s.name].low_j,
            high_j=diff.machine[s.name].high_j,
            process_energy_j=diff.process[s.name] if has_process else None,
            errors=s.errors,
            last_error=s.last_error,
            details=s.describe() if details else {},
        )
        for s in sensors
    ]


def _fit_figures(sampler: Sampler) -> dict[str, Any]:
    """What right-sizing needs beyond energy: the job's CPU time and memory, machine idle time."""
    if sampler.tree is None:
        return {}
    ticks = sampler.idle_ticks + sampler.busy_ticks
    return {
        "process_cpu_s": round(sampler.tree_cpu_s, 3),
        "process_rss_peak_bytes": int(sampler.tree_rss_peak_bytes),
        "memory_total_bytes": int(psutil.virtual_memory().total),
        "cpu_idle_share": sampler.idle_ticks / ticks if ticks else None,
    }


def new_run_id() -> str:
    return os.urandom(6).hex()  # what secrets.token_hex(6) does, without importing random


class Tracker:
    """Measures the energy of the code between start() and stop()."""

    def __init__(
        self,
        name: str | None = None,
        *,
        interval_s: float = 1.0,
        idle_baseline_s: float = 0.0,
        sensors: list[EnergySensor] | None = None,
        pid: int | None = None,
        command: list[str] | None = None,
        max_points: int = 2048,
        discovery_options: dict[str, Any] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self.clock = clock or SYSTEM_CLOCK
        self.interval_s = interval_s
        self.idle_baseline_s = idle_baseline_s
        self.command = command
        self.max_points = max_points
        self.discovery_options = dict(discovery_options or {})
        self._given_sensors = sensors
        self._pid = pid
        self._state_lock = threading.Lock()
        self._sampler: Sampler | None = None
        self._start_totals: Totals | None = None
        self._started_wall: float | None = None
        self._phases: list[PhaseResult] = []
        self._work: dict[str, float] = {}
        self._idle: dict[str, Any] | None = None
        self.sensors: list[EnergySensor] = []
        self.statuses: list = []
        self.run_id = new_run_id()
        self.result: RunResult | None = None
        self._start_callbacks: list[Callback] = []
        self._finish_callbacks: list[Callback] = []
        self._warnings: list[str] = []
        self._created_mono = time.monotonic()

    # -- public callbacks ---------------------------------------------------------
    def on_start(self, callback: Callback) -> Callback:
        """Call `callback(result)` once measuring has begun (usable as a decorator)."""
        self._start_callbacks.append(callback)
        return callback

    def on_finish(self, callback: Callback) -> Callback:
        """Call `callback(result)` once measuring has ended, before the run is recorded.

        An exception in a callback becomes a warning on the run, never a lost run.
        """
        self._finish_callbacks.append(callback)
        return callback

    def warn(self, message: str) -> None:
        """A warning kept with the run record (and printed to stderr)."""
        self._warnings.append(message)
        sys.stderr.write(f"vatio: warning: {message}\n")

    def _call(self, callbacks: list[Callback], result: RunResult) -> None:
        for callback in list(callbacks):
            try:
                callback(result)
            except Exception as error:  # a feature's callback must never lose the run
                name = getattr(callback, "__qualname__", repr(callback))
                self.warn(f"callback {name} failed: {type(error).__name__}: {error}")
        result.warnings = list(self._warnings)

    # -- lifecycle --------------------------------------------------------------
    def start(self, origin: Any = None) -> Tracker:
        """Begin measuring (from `origin`, an instant taken before the job was spawned, when
        given); a second call does nothing."""
        with self._state_lock:
            if self._sampler is not None:
                return self
            given = self._given_sensors
            self.sensors = given if given is not None else self._discover()
            if self.idle_baseline_s > 0:
                self._idle = self._measure_idle(self.idle_baseline_s)
            pid = self._pid if self._pid is not None else os.getpid()
            self._sampler = Sampler(
                self.sensors,
                self.interval_s,
                pid=pid,
                max_points=self.max_points,
                wall_clock=self.clock.wall,
                monotonic=self.clock.monotonic,
            )
            self._start_totals = self._sampler.start(origin)
            self._started_wall = self._start_totals.wall
            self._startup_s = time.monotonic() - self._created_mono
            self.result = self._build_result("running", end=None)
        self._call(self._start_callbacks, self.result)
        return self

    def attach(self, pid: int) -> None:
        """Name the job's process once spawned (tracker created with pid=CHILD_LATER)."""
        if self._sampler is None:
            raise RuntimeError("Tracker.attach() called before start()")
        self._sampler.attach(pid)

    @property
    def sampler(self) -> Sampler | None:
        """The running sampler (for live figures, e.g. a metrics endpoint)."""
        return self._sampler

    def stop(
        self, status: str = "completed", exit_code: int | None = None, error: str | None = None
    ) -> RunResult:
        """Finish and return the result; later calls return the same result unchanged."""
        with self._state_lock:
            if self._sampler is None:
                raise RuntimeError("Tracker.stop() called before start()")
            if self.result is not None and self.result.status != "running":
                return self.result
            end = self._sampler.stop()
            for sensor in self.sensors:
                sensor.close()
            self.result = self._build_result(status, end=end, exit_code=exit_code, error=error)
        self._call(self._finish_callbacks, self.result)
        return self.result

    def _discover(self) -> list[EnergySensor]:
        from vatio.devices.discovery import discover

        found = discover(**self.discovery_options)
        self.statuses = found.statuses
        return found.sensors

    def _measure_idle(self, seconds: float) -> dict[str, Any]:
        """Average power per sensor with nothing of ours running, to subtract later."""
        sampler = Sampler(
            self.sensors,
            self.interval_s,
            pid=None,
            max_points=64,
            wall_clock=self.clock.wall,
            monotonic=self.clock.monotonic,
        )
        start = sampler.start()
        time.sleep(seconds)
        diff = sampler.stop().minus(start)
        return {
            "duration_s": diff.wall,
            "power_w": {k: v.energy_j / diff.wall for k, v in diff.machine.items()}
            if diff.wall > 0
            else {},
        }

    # -- phases and work --------------------------------------------------------
    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Measure a named part of the run (nesting allowed)."""
        if self._sampler is None:
            self.start()
        assert self._sampler is not None
        before = self._sampler.tick()
        try:
            yield
        finally:
            after = self._sampler.tick()
            diff = after.minus(before)
            overhead_j = sum(diff.overhead.values())
            self._phases.append(
                PhaseResult(
                    name=name,
                    started_at=utc_iso(before.wall),
                    ended_at=utc_iso(after.wall),
                    duration_s=diff.wall,
                    energy_j=max(sum(r.energy_j for r in diff.machine.values()) - overhead_j, 0),
                    low_j=max(sum(r.low_j for r in diff.machine.values()) - overhead_j, 0.0),
                    high_j=max(sum(r.high_j for r in diff.machine.values()) - overhead_j, 0.0),
                    process_energy_j=sum(diff.process.values()),
                    overhead_j=overhead_j,
                )
            )

    def add_work(self, **units: float) -> None:
        """Count work done (samples=..., tokens=...) for energy per unit.

        A bad count raises InputError here, at the call, and leaves the tracker as it was.
        """
        checked = {unit: _work_count(unit, count) for unit, count in units.items()}
        for unit, count in checked.items():
            self._work[unit] = self._work.get(unit, 0.0) + count

    # -- result -----------------------------------------------------------------
    def _build_result(
        self,
        status: str,
        end: Totals | None,
        exit_code: int | None = None,
        error: str | None = None,
    ) -> RunResult:
        assert self._start_totals is not None and self._sampler is not None
        result = RunResult(
            id=self.run_id,
            name=self.name,
            command=self.command,
            status=status,
            started_at=utc_iso(self._start_totals.wall),
            interval_s=self._sampler.interval_s,
            exit_code=exit_code,
            error=error,
        )
        if end is None:
            return result
        diff = end.minus(self._start_totals)
        has_process = self._sampler.tree is not None
        result.ended_at = utc_iso(end.wall)
        result.duration_s = diff.wall
        result.devices = device_energies(self.sensors, diff, has_process=has_process)
        result.phases = list(self._phases)
        result.work = dict(self._work)
        result.idle = self._idle_summary(result) if self._idle else None
        timeline = self._sampler.timeline
        result.timeline = timeline.to_dict()
        result.hourly = [
            {"hour": utc_iso(hour), "energy": bucket.energy}
            for hour, bucket in sorted(timeline.hours.items())
        ]
        overhead_j = sum(diff.overhead.values())
        result.overhead = {
            "cpu_s": round(diff.overhead_cpu_s, 6),
            "energy_j": overhead_j,
            "startup_s": round(self._startup_s, 6),
            "scope": "vatio process" if self._sampler.own_cpu.whole_process else "vatio threads",
        }
        result.sampler = {
            "ticks": self._sampler.ticks,
            "cost_s": round(self._sampler.tick_cost_s, 6),
            "interval_s": self._sampler.interval_s,
            "cpu_utilisation": self._sampler.cpu_utilisation,
            "cpu_count": psutil.cpu_count(),
            "late_start_s": dict(getattr(self._sampler, "late_start_s", {})),
            **_fit_figures(self._sampler),
        }
        return result

    def _idle_summary(self, result: RunResult) -> dict[str, Any]:
        assert self._idle is not None and result.duration_s is not None
        active = {}
        for device in result.devices:
            idle_j = self._idle["power_w"].get(device.name, 0.0) * result.duration_s
            active[device.name] = max(device.energy_j - idle_j, 0.0)
        return {**self._idle, "active_energy_j": sum(active.values()), "active_by_device_j": active}

    # -- context manager and decorator -----------------------------------------
    def __enter__(self) -> Tracker:
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.stop("completed", exit_code=0)
        elif issubclass(exc_type, KeyboardInterrupt):
            self.stop("interrupted", error="KeyboardInterrupt")
        else:
            self.stop("failed", error=f"{exc_type.__name__}: {exc}")

    def _settings(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "interval_s": self.interval_s,
            "idle_baseline_s": self.idle_baseline_s,
            "sensors": self._given_sensors,
            "pid": self._pid,
            "command": self.command,
            "max_points": self.max_points,
            "discovery_options": self.discovery_options,
            "clock": self.clock,
        }

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            tracker = type(self)(**self._settings())
            if tracker.name is None:
                tracker.name = func.__qualname__
            with tracker:
                value = func(*args, **kwargs)
            wrapper.last_result = tracker.result  # type: ignore[attr-defined]
            return value

        wrapper.last_result = None  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]


def _work_count(unit: Any, count: Any) -> float:
    """A finite, non-negative number of units of work, or an InputError that says why."""
    from vatio.errors import InputError

    if not isinstance(unit, str) or not unit.isidentifier():
        raise InputError(f"add_work() got the unit {unit!r}; use a name such as samples=1000.")
    if isinstance(count, bool) or not isinstance(count, int | float):
        try:
            import numbers

            if not isinstance(count, numbers.Real) or isinstance(count, bool):
                raise TypeError
            count = float(count)
        except (TypeError, ValueError):
            raise InputError(
                f"add_work({unit}={count!r}) needs a number of {unit}, "
                f"not a {type(count).__name__}.",
                f"Pass a count, e.g. add_work({unit}=len(batch)).",
            ) from None
    value = float(count)
    if not math.isfinite(value) or value < 0:
        raise InputError(
            f"add_work({unit}={count!r}) needs a finite, non-negative count.",
            "Count the work done (samples, tokens, ...) as a number >= 0.",
        )
    return value
