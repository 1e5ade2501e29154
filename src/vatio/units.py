"""Parsing of human quantities ("10s", "3h", "12kWh") shared by the CLI and the profile."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from vatio.errors import InputError

_DURATION_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "d": 86400.0,
}
_ENERGY_UNITS = {"j": 1.0, "kj": 1e3, "wh": 3600.0, "kwh": 3.6e6, "mwh": 3.6e9}
_NUMBER_UNIT = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")
_COMPOUND = re.compile(r"([0-9]*\.?[0-9]+)\s*([a-zA-Z]+)")


#: the longest duration any vatio option accepts (ten years)
MAX_DURATION_S = 10 * 365 * 86400.0


def parse_duration(
    text: str | float | int,
    *,
    what: str = "duration",
    allow_zero: bool = True,
    maximum: float = MAX_DURATION_S,
) -> float:
    """Seconds from '90', '90s', '1.5h', '30m', '1h30m' or a number of seconds."""
    if isinstance(text, bool):
        raise InputError(f"The {what} {text!r} is not a length of time.", "Use e.g. 10s or 3h.")
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        seconds = _parse_compound_duration(str(text), what)
    if not math.isfinite(seconds):
        raise InputError(f"The {what} {text!r} is not a finite length.", "Use e.g. 10s or 3h.")
    if seconds < 0:
        raise InputError(f"The {what} {text!r} is negative.", "Give a positive length such as 10s.")
    if seconds == 0 and not allow_zero:
        raise InputError(f"The {what} {text!r} is zero.", "Give a positive length such as 10s.")
    if seconds > maximum:
        raise InputError(
            f"The {what} {text!r} is longer than vatio accepts ({_human(maximum)}).",
            f"Give at most {_human(maximum)}.",
        )
    return seconds


def _human(seconds: float) -> str:
    for unit, size in (("years", 365 * 86400.0), ("days", 86400.0), ("h", 3600.0), ("s", 1.0)):
        if seconds >= size:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _parse_compound_duration(text: str, what: str) -> float:
    match = _NUMBER_UNIT.match(text)
    if match and match.group(2).lower() in ("", *_DURATION_UNITS):
        unit = match.group(2).lower() or "s"
        return float(match.group(1)) * _DURATION_UNITS[unit]
    parts = _COMPOUND.findall(text)
    joined = "".join(f"{n}{u}" for n, u in parts)
    if parts and joined == re.sub(r"\s+", "", text):
        total = 0.0
        for number, unit in parts:
            factor = _DURATION_UNITS.get(unit.lower())
            if factor is None:
                break
            total += float(number) * factor
        else:
            return total
    raise InputError(
        f"Cannot read the {what} {text!r}.",
        "Use a number with a unit: 500ms, 10s, 30m, 3h, 1h30m or 2d.",
    )


def parse_energy_j(text: str | float | int) -> float:
    """Joules from '12kWh', '500Wh', '3.6MJ'-style text or a number of kWh."""
    if isinstance(text, int | float):
        return float(text) * 3.6e6
    match = _NUMBER_UNIT.match(str(text))
    unit = match.group(2).lower() if match else None
    if unit == "mj":
        return float(match.group(1)) * 1e6
    if match is None or (unit or "kwh") not in _ENERGY_UNITS:
        raise InputError(
            f"Cannot read the energy {text!r}.", "Use a number with a unit: 12kWh, 500Wh or 3600J."
        )
    return float(match.group(1)) * _ENERGY_UNITS[unit or "kwh"]


def kwh(joules: float) -> float:
    return joules / 3.6e6


def parse_fraction(text: str) -> float:
    """'5%' or '0.05' -> 0.05."""
    raw = text.strip()
    try:
        return float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise InputError(f"Cannot read the threshold {text!r}.", "Use e.g. 5% or 0.05.") from None


def parse_time(text: str, *, what: str = "time") -> datetime:
    """UTC datetime from ISO-like text: this machine's local time unless it has Z or an offset."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"Cannot read the {what} {text!r}.",
            'Use "YYYY-MM-DD HH:MM" (local time) or add an offset such as Z or +01:00.',
        ) from None
    try:
        if moment.tzinfo is None:
            moment = moment.astimezone()  # naive means this machine's local time
        return moment.astimezone(UTC)
    except (OverflowError, ValueError, OSError):  # year 1 or 9999 pushed out of range
        raise InputError(
            f"The {what} {text!r} is out of the range of dates vatio can handle.",
            "Give a date between the years 1970 and 9998.",
        ) from None


def parse_number(
    text: str | float,
    *,
    what: str,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """A finite number from user text, or one sentence naming the option and the value."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(f"The {what} {text!r} is not a number.", "Give e.g. 1.2.") from None
    if not math.isfinite(value):
        raise InputError(f"The {what} {text!r} is not a finite number.", "Give e.g. 1.2.")
    if minimum is not None and value < minimum:
        raise InputError(f"The {what} {text!r} is below {minimum:g}.")
    if maximum is not None and value > maximum:
        raise InputError(f"The {what} {text!r} is above {maximum:g}.")
    return value
