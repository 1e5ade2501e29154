"""Bounded record of energy over time.

Intervals are kept as energy (not power), so merging two neighbours when the
buffer is full loses resolution but never joules: a 24-hour run at 1 s keeps
at most `max_points` intervals. After each halving, new samples are added to
the last interval until it is as wide as the kept ones, so the resolution
stays even over the whole run (a 24-hour run at 1 s keeps 1,350 intervals of
64 s, not one of 21 hours followed by hundreds of 1 s). Energy per UTC hour is
kept exactly, apart, because carbon is computed hour by hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

HOUR_S = 3600.0


@dataclass
class HourBucket:
    """Energy in one UTC hour: machine central/low/high and process central per sensor."""

    energy: dict[str, list[float]] = field(default_factory=dict)

    def add(self, sensor: str, central: float, low: float, high: float, process: float) -> None:
        values = self.energy.setdefault(sensor, [0.0, 0.0, 0.0, 0.0])
        values[0] += central
        values[1] += low
        values[2] += high
        values[3] += process


class Timeline:
    """Intervals [t0, t1) with per-sensor joules; halves its resolution when full.

    `width_s` is the current resolution: 0 until the first halving, then the
    mean width of the kept intervals; the last interval grows to it before a
    new one starts.
    """

    def __init__(self, sensors: list[str], max_points: int = 2048) -> None:
        if max_points < 4 or max_points % 2:
            raise ValueError("max_points must be an even number >= 4")
        self.sensors = list(sensors)
        self.max_points = max_points
        self.t0: list[float] = []
        self.t1: list[float] = []
        self.joules: list[list[float]] = [[] for _ in sensors]
        self.process_joules: list[float] = []
        self.hours: dict[int, HourBucket] = {}
        self.merges = 0
        self.width_s = 0.0

    def add(
        self,
        t0: float,
        t1: float,
        deltas: list[tuple[float, float, float]],
        process: list[float],
    ) -> None:
        """Record one interval: per sensor (central, low, high) joules and process joules."""
        if t1 <= t0:
            return
        self._add_hours(t0, t1, deltas, process)
        if self.t0 and self.t1[-1] - self.t0[-1] < self.width_s * (1 - 1e-9):
            self.t1[-1] = t1  # the last interval is narrower than the others: it grows
            for column, (central, _, _) in zip(self.joules, deltas, strict=True):
                column[-1] += central
            self.process_joules[-1] += sum(process)
            return
        self.t0.append(t0)
        self.t1.append(t1)
        for column, (central, _, _) in zip(self.joules, deltas, strict=True):
            column.append(central)
        self.process_joules.append(sum(process))
        if len(self.t0) > self.max_points:
            self._halve()

    def _add_hours(self, t0, t1, deltas, process) -> None:
        span = t1 - t0
        start = t0
        while start < t1:
            hour = int(math.floor(start / HOUR_S) * HOUR_S)
            end = min(t1, hour + HOUR_S)
            weight = (end - start) / span
            bucket = self.hours.setdefault(hour, HourBucket())
            for name, (central, low, high), proc in zip(self.sensors, deltas, process, strict=True):
                bucket.add(name, central * weight, low * weight, high * weight, proc * weight)
            start = end

    def _halve(self) -> None:
        """Merge neighbouring intervals pairwise; totals are unchanged."""
        self.t0 = self.t0[0::2]
        self.t1 = self.t1[1::2] + ([self.t1[-1]] if len(self.t1) % 2 else [])
        self.joules = [_pairwise_sum(column) for column in self.joules]
        self.process_joules = _pairwise_sum(self.process_joules)
        self.merges += 1
        self.width_s = (self.t1[-1] - self.t0[0]) / len(self.t0)

    def to_dict(self) -> dict:
        """Power per sensor per interval, for plots and reports."""
        dts = [b - a for a, b in zip(self.t0, self.t1, strict=True)]
        return {
            "t0": self.t0,
            "t1": self.t1,
            "power_w": {
                name: [j / dt for j, dt in zip(column, dts, strict=True)]
                for name, column in zip(self.sensors, self.joules, strict=True)
            },
            "process_power_w": [j / dt for j, dt in zip(self.process_joules, dts, strict=True)],
            "merges": self.merges,
        }


def _pairwise_sum(values: list[float]) -> list[float]:
    merged = [a + b for a, b in zip(values[0::2], values[1::2], strict=False)]
    if len(values) % 2:
        merged.append(values[-1])
    return merged
