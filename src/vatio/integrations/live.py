"""Live figures for metrics endpoints: a running sampler, the grid now, the run store.

Nothing here reads a sensor. A `LiveView` follows a sampler that already runs
(the exporter's own, or a tracked run's) through `Sampler.latest()`, so a scrape
costs no sensor read and never changes what a run records. Each update is one
immutable snapshot swapped in whole, so a reader in another thread never sees
half of one. Intensity and store counts are refreshed in the same background
thread, never during a scrape.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vatio.measure.sampler import Sampler, Totals

HOUR_S = 3600.0
#: the store is re-read at most this often; more rarely if reading it is slow (see RunCounts)
STORE_REFRESH_S = 15.0
#: share of one core the store queries may take at most
STORE_CPU_SHARE = 0.005
FINISHED = ("completed", "failed", "interrupted", "killed")


@dataclass(frozen=True)
class SensorFigures:
    """One sensor's cumulative energy (J) since its sampler started, and its recent power."""

    name: str
    device: str
    method: str
    energy_j: float
    low_j: float
    high_j: float
    process_j: float
    power_w: float | None
    errors: int


@dataclass(frozen=True)
class LiveSnapshot:
    """What a scrape shows: the sensors at the latest reading (epoch seconds)."""

    started_at: float | None = None
    wall: float | None = None
    interval_s: float | None = None
    sensors: tuple[SensorFigures, ...] = ()


def sampler_of(source: Any) -> Sampler | None:
    """The sampler of a Sampler or of a tracker (None until the tracker has started)."""
    if isinstance(source, Sampler):
        return source
    return getattr(source, "sampler", None)


def started_at_of(source: Any) -> float | None:
    """When a tracker's run started (epoch seconds), for the counters' created time."""
    result = getattr(source, "result", None)
    text = getattr(result, "started_at", None)
    if not text:
        return None
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class LiveView:
    """Follows a running sampler from a background thread; `snapshot()` is lock-free."""

    def __init__(
        self,
        source: Any,
        *,
        poll_s: float | None = None,
        started_at: float | None = None,
        prune_hours: bool = False,
    ) -> None:
        self.source = source
        self.poll_s = poll_s
        self.started_at = started_at
        #: forget the sampler's hourly buckets older than an hour (only for a sampler we own:
        #: a long-running exporter would otherwise keep one bucket per hour forever)
        self.prune_hours = prune_hours
        self.hooks: list[Callable[[], None]] = []
        self._snapshot = LiveSnapshot()
        self._seen: Totals | None = None
        self._previous: Totals | None = None
        self._peak: dict[str, tuple[float, float, float, float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def snapshot(self) -> LiveSnapshot:
        return self._snapshot

    def update(self) -> LiveSnapshot:
        """Take the sampler's latest reading if it is new; power is measured between readings."""
        sampler = sampler_of(self.source)
        latest = sampler.latest() if sampler is not None else None
        if sampler is None or latest is None or latest is self._seen:
            return self._snapshot
        if self.started_at is None:
            self.started_at = started_at_of(self.source) or latest.wall
        previous, self._seen = self._seen, latest
        span = latest.wall - previous.wall if previous is not None else 0.0
        figures = []
        for sensor in sampler.sensors:
            reading = latest.machine.get(sensor.name)
            if reading is None:
                continue
            # counters never go down, even by a float rounding or a sensor hiccup
            old = self._peak.get(sensor.name, (0.0, 0.0, 0.0, 0.0))
            new = (
                reading.energy_j,
                reading.low_j,
                reading.high_j,
                latest.process.get(sensor.name, 0.0),
            )
            peak = tuple(max(a, b) for a, b in zip(old, new, strict=True))
            self._peak[sensor.name] = peak  # type: ignore[assignment]
            power = None
            if previous is not None and span > 0 and sensor.name in previous.machine:
                power = max((reading.energy_j - previous.machine[sensor.name].energy_j) / span, 0.0)
            figures.append(
                SensorFigures(
                    name=sensor.name,
                    device=sensor.device,
                    method=sensor.method,
                    energy_j=peak[0],
                    low_j=peak[1],
                    high_j=peak[2],
                    process_j=peak[3],
                    power_w=power,
                    errors=sensor.errors,
                )
            )
        self._snapshot = LiveSnapshot(
            started_at=self.started_at,
            wall=latest.wall,
            interval_s=sampler.interval_s,
            sensors=tuple(figures),
        )
        if self.prune_hours:
            _prune_hours(sampler, latest.wall)
        return self._snapshot

    # -- background thread ------------------------------------------------------------
    def start(self) -> LiveView:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="vatio-live", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def _poll_interval(self) -> float:
        if self.poll_s:
            return self.poll_s
        sampler = sampler_of(self.source)
        return sampler.interval_s if sampler is not None else 0.5

    def _loop(self) -> None:
        self._step()
        while not self._stop.wait(self._poll_interval()):
            self._step()

    def _step(self) -> None:
        self.update()
        for hook in self.hooks:
            hook()


def _prune_hours(sampler: Sampler, now: float) -> None:
    hours = sampler.timeline.hours
    cutoff = math.floor(now / HOUR_S) * HOUR_S - HOUR_S
    for hour in [h for h in list(hours) if h < cutoff]:
        hours.pop(hour, None)


# -- the grid --------------------------------------------------------------------------
@dataclass(frozen=True)
class IntensityFigure:
    zone: str
    value: float
    basis: str
    kind: str
    source: str


class GridIntensity:
    """The zone's carbon intensity for the current UTC hour, from vatio's bundled data."""

    def __init__(self, zone: str, kind: str = "lca") -> None:
        from vatio.carbon.zones import resolve_zone

        self.zone = resolve_zone(zone)  # an unknown zone fails here, before serving
        self.kind = kind
        self.current: IntensityFigure | None = None
        self._hour: float | None = None
        self.refresh()

    def refresh(self, now: float | None = None) -> IntensityFigure | None:
        hour = math.floor((time.time() if now is None else now) / HOUR_S) * HOUR_S
        if hour != self._hour:
            from vatio.carbon.accounting import intensity_for_hour

            found = intensity_for_hour(self.zone, hour, self.kind)
            self.current = IntensityFigure(
                self.zone.code, found.value, found.basis, self.kind, found.source
            )
            self._hour = hour
        return self.current


# -- the run store ----------------------------------------------------------------------
@dataclass(frozen=True)
class StoreFigures:
    """Runs in the store: finished ones by status, open ones, and their energy and carbon."""

    finished: dict[tuple[str, str], int] = field(default_factory=dict)  # (status, kind)
    running: dict[str, int] = field(default_factory=dict)  # kind
    abandoned: dict[str, int] = field(default_factory=dict)  # kind
    energy_j: dict[tuple[str, str], float] = field(default_factory=dict)  # (kind, method)
    co2e_g: dict[tuple[str, str], float] = field(default_factory=dict)  # (kind, zone)
    read_at: float = 0.0
    read_cost_s: float = 0.0


class RunCounts:
    """Counts of the run store, re-read in the background (never during a scrape).

    A slow store is read more rarely, so that the exporter stays under
    STORE_CPU_SHARE of a core whatever the size of the store.
    """

    def __init__(self, store_url: str, refresh_s: float = STORE_REFRESH_S) -> None:
        self.store_url = store_url
        self.refresh_s = refresh_s
        self.current: StoreFigures | None = None
        self.up = False
        self.error: str | None = None
        self._store: Any = None
        self._next = 0.0

    def refresh(self, force: bool = False) -> StoreFigures | None:
        now = time.monotonic()
        if not force and now < self._next:
            return self.current
        began = time.perf_counter()
        try:
            figures = self._read()
        except Exception as error:  # a store that is down shows as vatio_store_up 0
            self.up = False
            self.error = str(getattr(error, "message", None) or error).splitlines()[0]
            self._store = None
        else:
            self.up = figures is not None
            if figures is not None:
                self.current = figures
                self.error = None
        cost = time.perf_counter() - began
        self._next = now + max(self.refresh_s, cost / STORE_CPU_SHARE)
        return self.current

    def _read(self) -> StoreFigures | None:
        if self._store is None:
            if _missing_sqlite(self.store_url):
                self.error = "no run store yet (nothing recorded)"
                return None
            from vatio.store.runstore import RunStore

            self._store = RunStore(self.store_url, readonly=True)  # never migrates nor writes
        return count_runs(self._store)


def _missing_sqlite(url: str) -> bool:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url in (prefix, f"{prefix}:memory:"):
        return False
    return not Path(url[len(prefix) :]).is_file()


def count_runs(store: Any) -> StoreFigures:
    """Group the runs table by status and kind (finished) and look at the open ones."""
    import sqlalchemy as sa

    from vatio.store.runstore import display_status
    from vatio.store.schema import runs

    began = time.perf_counter()
    done = runs.c.status != "running"
    by_status = sa.select(runs.c.status, runs.c.kind, sa.func.count()).where(done)
    by_status = by_status.group_by(runs.c.status, runs.c.kind)
    energy = sa.select(runs.c.kind, runs.c.method, sa.func.sum(runs.c.energy_j))
    energy = energy.where(done, runs.c.energy_j.is_not(None)).group_by(runs.c.kind, runs.c.method)
    carbon = sa.select(runs.c.kind, runs.c.zone, sa.func.sum(runs.c.co2e_g))
    carbon = carbon.where(done, runs.c.co2e_g.is_not(None)).group_by(runs.c.kind, runs.c.zone)
    open_runs = sa.select(
        runs.c.kind, runs.c.status, runs.c.host, runs.c.pid, runs.c.pid_started, runs.c.heartbeat_at
    ).where(runs.c.status == "running")
    with store.engine.connect() as conn:
        finished = {(s, k or "run"): int(n) for s, k, n in conn.execute(by_status)}
        energy_j = {(k or "run", m or "none"): float(j) for k, m, j in conn.execute(energy)}
        co2e_g = {(k or "run", z or "none"): float(g) for k, z, g in conn.execute(carbon)}
        rows = [dict(r._mapping) for r in conn.execute(open_runs)]
    running: dict[str, int] = {}
    abandoned: dict[str, int] = {}
    for row in rows:
        target = running if display_status(row) == "running" else abandoned
        kind = row.get("kind") or "run"
        target[kind] = target.get(kind, 0) + 1
    return StoreFigures(
        finished=finished,
        running=running,
        abandoned=abandoned,
        energy_j=energy_j,
        co2e_g=co2e_g,
        read_at=time.time(),
        read_cost_s=time.perf_counter() - began,
    )
