"""Scripted sensors with real counter semantics, for tracker and sampler tests."""

from __future__ import annotations

from vatio.devices.common import EnergySensor, Reading
from vatio.errors import SensorReadError


class ConstantPowerSensor(EnergySensor):
    """Draws `watts` (with a ±range) as time passes; optionally fails on some reads."""

    def __init__(
        self,
        name: str = "cpu:fake",
        watts: float = 10.0,
        device: str = "cpu",
        method: str = "measured:rapl",
        spread: float = 0.0,
        fail_reads: set[int] | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.device = device
        self.method = method
        self.watts = watts
        self.spread = spread
        self.fail_reads = fail_reads or set()
        self.reads = 0
        self._t0 = 0.0

    def start(self, now: float) -> None:
        self._t0 = now

    def read(self, now: float) -> Reading:
        self.reads += 1
        if self.reads in self.fail_reads:
            raise SensorReadError(f"scripted failure on read {self.reads}")
        joules = self.watts * (now - self._t0)
        return Reading(joules, joules * (1 - self.spread), joules * (1 + self.spread))
