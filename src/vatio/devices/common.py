"""The sensor contract every device reader implements.

A sensor reports *cumulative* energy since it started, so the sampler can
take differences at any rate and a missed tick loses resolution, not joules.
Power-only sources (NVML power, estimates) integrate inside the sensor.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MEASURED_RAPL = "measured:rapl"
MEASURED_NVML_COUNTER = "measured:nvml-counter"
MEASURED_NVML_POWER = "measured:nvml-power"
ESTIMATED_TDP = "estimated:tdp"
ESTIMATED_MEMORY = "estimated:memory"


@dataclass(frozen=True)
class Reading:
    """Cumulative energy in joules with its uncertainty range (equal bounds when measured)."""

    energy_j: float
    low_j: float
    high_j: float

    @classmethod
    def exact(cls, energy_j: float) -> Reading:
        return cls(energy_j, energy_j, energy_j)

    def __sub__(self, other: Reading) -> Reading:
        return Reading(
            self.energy_j - other.energy_j, self.low_j - other.low_j, self.high_j - other.high_j
        )


ZERO = Reading(0.0, 0.0, 0.0)


@dataclass
class SensorStatus:
    """What discovery found: a usable sensor or the reason one is unusable, for `vatio hardware`."""

    name: str
    available: bool
    method: str | None
    detail: str
    hint: str | None = None


class EnergySensor(ABC):
    """One device's energy since `start()`; measured or estimated, never both."""

    #: stable identifier such as "cpu:package-0", "dram:0", "gpu:0", "memory"
    name: str
    #: device family: "cpu", "dram", "gpu" or "memory"
    device: str
    #: how the figure is obtained; one of the METHOD constants above
    method: str

    def __init__(self) -> None:
        self.errors = 0
        self.last_error: str | None = None
        self.assumptions: list[str] = []

    @property
    def is_estimate(self) -> bool:
        return self.method.startswith("estimated:")

    @property
    def max_interval_s(self) -> float | None:
        """Longest safe gap between reads (e.g. before a counter can wrap twice)."""
        return None

    def start(self, now: float) -> None:  # noqa: B027 - optional hook
        """Take the zero point; `now` is time.monotonic()."""

    def start_from(self, origin: Any, now: float) -> bool:
        """Take the zero point at an earlier instant (`vatio.measure.origin.Origin`) when this
        sensor can; False when it cannot (it then starts now, and the gap is reported)."""
        self.start(now)
        return False

    @abstractmethod
    def read(self, now: float) -> Reading:
        """Cumulative energy since start. Raises SensorReadError on a transient failure."""

    def process_share(self, pids: Iterable[int]) -> float | None:
        """Share (0..1) of this device's recent energy that belongs to `pids`, if known."""
        return None

    def describe(self) -> dict:
        """Static facts for the run record (model, limits, assumptions)."""
        return {"name": self.name, "device": self.device, "method": self.method}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release handles."""


@dataclass
class Discovery:
    """Result of looking for sensors: the ones to use and a line for each source tried."""

    sensors: list[EnergySensor] = field(default_factory=list)
    statuses: list[SensorStatus] = field(default_factory=list)
