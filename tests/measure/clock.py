"""A clock that moves only when a test says so: energy checks independent of machine load."""

from __future__ import annotations

import threading

from vatio.measure.tracker import Clock


class ManualClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def now(self) -> float:
        with self._lock:
            return self._now

    def clock(self) -> Clock:
        return Clock(wall=self.now, monotonic=self.now)
