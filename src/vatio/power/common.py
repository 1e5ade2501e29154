"""The knob contract every power setting implements (GPU, cpufreq, threads, affinity).

A knob reads and writes one setting of one target ("gpu:0", "cpu", "job"),
says whether it can be read and written here and, when not, why and the exact
fix. Machine knobs change the whole machine and are saved to the restore file
before any change (see restore.py); job knobs only change the process vatio
starts, so nothing outlives vatio.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any

from vatio.errors import InputError, VatioError

MACHINE = "machine"
JOB = "job"


class KnobUnavailable(VatioError):
    """A knob that cannot be read or written here; `hint` holds the exact fix."""


@dataclass
class KnobStatus:
    """What `vatio power show` prints for one knob."""

    ident: str
    key: str
    target: str
    label: str
    unit: str
    scope: str
    value: Any
    readable: bool
    writable: bool
    reason: str | None = None
    fix: str | None = None
    allowed: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Knob(ABC):
    """One setting of one target. Subclasses set the class attributes and the four methods."""

    #: the setting's name in `[tool.vatio.power]` and in sweep settings
    key: str
    #: what it acts on: "gpu:0", "cpu" or "job"
    target: str
    label: str
    unit: str = ""
    scope: str = MACHINE

    @property
    def ident(self) -> str:
        return f"{self.target}/{self.key}"

    @abstractmethod
    def read(self) -> Any:
        """The current value; raises KnobUnavailable with the reason and the fix."""

    @abstractmethod
    def write(self, value: Any) -> None:
        """Set `value` (already checked); raises KnobUnavailable when not allowed."""

    def allowed(self) -> dict[str, Any]:
        """{"min": .., "max": ..} or {"choices": [...]}; {} when unknown."""
        return {}

    def check_value(self, value: Any) -> Any:
        """The value to write, or InputError naming the allowed range."""
        allowed = self.allowed()
        if "choices" in allowed and value not in allowed["choices"]:
            raise InputError(
                f"{self.label}: {value!r} is not one of {', '.join(map(str, allowed['choices']))}.",
                "Pick one of those (see `vatio power show`).",
            )
        low, high = allowed.get("min"), allowed.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            raise InputError(
                f"{self.label}: {value:g} {self.unit} is outside {low:g}-{high:g} {self.unit}.",
                "Pick a value in that range (see `vatio power show`).",
            )
        return value

    def writable(self) -> tuple[bool, str | None, str | None]:
        """(can write, why not, fix); the default tries nothing and says yes."""
        return True, None, None

    def snapshot(self) -> dict[str, Any]:
        """What restore() needs to put the current state back (JSON-serialisable)."""
        return {"value": self.read()}

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.write(snapshot["value"])

    def backend(self) -> dict[str, Any]:
        """How another process finds this knob again (sysfs root, NVML module), for restore."""
        return {}

    def notes(self) -> list[str]:
        return []

    def status(self) -> KnobStatus:
        status = KnobStatus(
            ident=self.ident,
            key=self.key,
            target=self.target,
            label=self.label,
            unit=self.unit,
            scope=self.scope,
            value=None,
            readable=False,
            writable=False,
        )
        try:
            status.value = self.read()
            status.readable = True
        except KnobUnavailable as error:
            status.reason, status.fix = error.message, error.hint
            return status
        status.writable, status.reason, status.fix = self.writable()
        try:
            status.allowed = self.allowed()
        except KnobUnavailable as error:
            status.notes.append(error.message)
        status.notes.extend(self.notes())
        return status


def format_value(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if unit == "kHz" and isinstance(value, int):
        return f"{value / 1e6:.2f} GHz"
    return f"{value} {unit}".strip()
