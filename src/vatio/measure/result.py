"""Results of a tracked run, serialisable to the canonical JSON kept in the store."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

#: 2: `extensions` (features' typed sections), `overhead`, `warnings`, `signer`; no `schedule`
SCHEMA_VERSION = 2
STATUSES = ("running", "completed", "failed", "interrupted", "killed")


@dataclass
class DeviceEnergy:
    """One sensor's energy over the run, with how it was obtained."""

    name: str
    device: str
    method: str
    energy_j: float
    low_j: float
    high_j: float
    process_energy_j: float | None
    errors: int = 0
    last_error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class PhaseResult:
    name: str
    started_at: str
    ended_at: str
    duration_s: float
    energy_j: float
    low_j: float
    high_j: float
    process_energy_j: float | None
    co2e_g: float | None = None
    #: vatio's own energy during the phase, already left out of energy_j
    overhead_j: float = 0.0


@dataclass
class RunResult:
    """Everything known about one run; energy in joules, carbon in gCO2e."""

    id: str
    name: str | None
    command: list[str] | None
    status: str
    started_at: str
    ended_at: str | None = None
    duration_s: float | None = None
    exit_code: int | None = None
    error: str | None = None
    interval_s: float | None = None
    devices: list[DeviceEnergy] = field(default_factory=list)
    phases: list[PhaseResult] = field(default_factory=list)
    work: dict[str, float] = field(default_factory=dict)
    idle: dict[str, Any] | None = None
    hourly: list[dict[str, Any]] = field(default_factory=list)
    timeline: dict[str, Any] | None = None
    carbon: dict[str, Any] | None = None
    manifest: dict[str, Any] | None = None
    profile: dict[str, Any] | None = None
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    sampler: dict[str, Any] = field(default_factory=dict)
    #: vatio's own CPU time and energy (J, s), never part of the job's figures
    overhead: dict[str, Any] | None = None
    #: sections written by features (schedule, scale, optimize, compare, pytest, ...)
    extensions: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: the key that signs the log this record is a leaf of (key id and signer name)
    signer: dict[str, Any] | None = None
    #: who ran it, on which host, for which project (user, host, project): team stores
    #: group and filter runs by these, and the signed log vouches for them
    owner: dict[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION

    def __repr__(self) -> str:
        energy = self.energy_j
        parts = [
            f"id={self.id!r}",
            f"status={self.status!r}",
            f"duration={self.duration_s:.3g}s" if self.duration_s is not None else None,
            f"energy={energy:.4g}J" if energy is not None else "energy=None",
            f"co2e={self.co2e_g:.3g}g" if self.co2e_g is not None else None,
            f"method={self.method!r}",
        ]
        return "RunResult(" + ", ".join(p for p in parts if p) + ")"

    __str__ = __repr__

    # -- totals -----------------------------------------------------------------
    @property
    def energy_j(self) -> float | None:
        """Machine energy of every device; None when no sensor produced a figure."""
        if not self.devices:
            return None
        return sum(d.energy_j for d in self.devices)

    @property
    def energy_low_j(self) -> float | None:
        return sum(d.low_j for d in self.devices) if self.devices else None

    @property
    def energy_high_j(self) -> float | None:
        return sum(d.high_j for d in self.devices) if self.devices else None

    @property
    def measured_j(self) -> float:
        return sum(d.energy_j for d in self.devices if d.method.startswith("measured:"))

    @property
    def estimated_j(self) -> float:
        return sum(d.energy_j for d in self.devices if d.method.startswith("estimated:"))

    @property
    def process_energy_j(self) -> float | None:
        parts = [d.process_energy_j for d in self.devices]
        if not parts or any(p is None for p in parts):
            return None
        return sum(p for p in parts if p is not None)

    @property
    def energy_kwh(self) -> float | None:
        return None if self.energy_j is None else self.energy_j / 3.6e6

    @property
    def method(self) -> str:
        """The methods behind the total, e.g. 'measured:rapl+estimated:memory'."""
        return "+".join(sorted({d.method for d in self.devices})) or "none"

    @property
    def co2e_g(self) -> float | None:
        return None if self.carbon is None else self.carbon.get("co2e_g")

    @property
    def per_phase(self) -> dict[str, PhaseResult]:
        return {p.name: p for p in self.phases}

    @property
    def energy_per_unit_j(self) -> dict[str, float]:
        """Joules per unit of reported work (per sample, per token, ...)."""
        total = self.energy_j
        if total is None:
            return {}
        return {unit: total / count for unit, count in self.work.items() if count > 0}

    # -- serialisation ----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = _plain(self)
        data["totals"] = {
            "energy_j": self.energy_j,
            "energy_low_j": self.energy_low_j,
            "energy_high_j": self.energy_high_j,
            "measured_j": self.measured_j,
            "estimated_j": self.estimated_j,
            "process_energy_j": self.process_energy_j,
            "method": self.method,
            "energy_per_unit_j": self.energy_per_unit_j,
        }
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        """A result from its dict form (also records of schema version 1)."""
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["devices"] = [_known(DeviceEnergy, d) for d in data.get("devices") or []]
        fields["phases"] = [_known(PhaseResult, p) for p in data.get("phases") or []]
        extensions = dict(data.get("extensions") or {})
        if data.get("schedule") and "schedule" not in extensions:
            extensions["schedule"] = data["schedule"]
        fields["extensions"] = extensions
        return cls(**fields)


def _plain(value: Any) -> Any:
    """dataclasses.asdict without its deep copy of every leaf (10 ms for a record with a
    manifest): containers are copied, leaves (str, numbers, None) are immutable."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return (
            type(value)(*map(_plain, value))
            if hasattr(value, "_fields")
            else tuple(map(_plain, value))
        )
    if isinstance(value, (set, frozenset, bytearray)):
        import copy

        return copy.deepcopy(value)
    return value


def _known(kind: type, data: dict[str, Any]) -> Any:
    return kind(**{k: v for k, v in data.items() if k in kind.__dataclass_fields__})
