"""A figure is a number with its unit, range and method: reports never show a bare number."""

from __future__ import annotations

import math
from typing import Any

J_PER_KWH = 3.6e6


def basis_of(methods: str | list[str] | None) -> str:
    """'measured', 'estimated', 'mixed' or 'none' from methods like 'measured:rapl'."""
    if isinstance(methods, str):
        methods = [m for m in methods.split("+") if m and m != "none"]
    kinds = {m.split(":", 1)[0] for m in methods or []}
    if not kinds:
        return "none"
    if len(kinds) > 1:
        return "mixed"
    kind = kinds.pop()
    return kind if kind in ("measured", "estimated") else "derived"


def figure(
    value: float | None,
    unit: str,
    method: str,
    basis: str,
    low: float | None = None,
    high: float | None = None,
) -> dict[str, Any]:
    """The JSON form of a figure; a missing range means the value is exact or unknown."""
    return {
        "value": _clean(value),
        "low": _clean(low),
        "high": _clean(high),
        "unit": unit,
        "method": method,
        "basis": basis,
    }


def energy_figure(
    joules: float | None, low_j: float | None, high_j: float | None, method: str
) -> dict[str, Any]:
    """Energy in kWh (the unit at the edges of vatio) from joules."""

    def kwh(j: float | None) -> float | None:
        return None if j is None else j / J_PER_KWH

    return figure(kwh(joules), "kWh", method, basis_of(method), kwh(low_j), kwh(high_j))


def scaled(fig: dict[str, Any], factor: float, unit: str, method: str) -> dict[str, Any]:
    """The same figure times a factor (per unit of work, equivalents), range kept."""

    def times(v: float | None) -> float | None:
        return None if v is None else v * factor

    return figure(
        times(fig["value"]), unit, method, fig["basis"], times(fig["low"]), times(fig["high"])
    )


def _clean(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def singular(unit: str) -> str:
    """'samples' -> 'sample' for per-unit labels; other words unchanged."""
    return unit[:-1] if unit.endswith("s") and not unit.endswith("ss") and len(unit) > 2 else unit


# -- text -------------------------------------------------------------------------------


def fmt_number(value: float | None, digits: int = 3) -> str:
    """Three significant figures, without scientific notation for everyday sizes."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e6:
        decimals = max(digits - 1 - math.floor(math.log10(magnitude)), 0)
        return f"{value:,.{decimals}f}"
    return f"{value:.{digits - 1}e}"


def fmt_range(fig: dict[str, Any] | None) -> str:
    """'1.23 kWh (0.9–1.5)' or '—' when the figure is unknown."""
    if not fig or fig.get("value") is None:
        return "—"
    text = f"{fmt_number(fig['value'])} {fig['unit']}"
    low, high = fig.get("low"), fig.get("high")
    if low is not None and high is not None and not math.isclose(low, high, rel_tol=1e-9):
        text += f" ({fmt_number(low)}–{fmt_number(high)})"
    return text


def fmt_energy(fig: dict[str, Any] | None) -> str:
    """An energy figure (kWh in the data) in the unit policy's auto-scaled SI unit."""
    if not fig or fig.get("value") is None:
        return "—"
    from vatio.quantities import energy_range

    def joules(v: float | None) -> float | None:
        return None if v is None else v * J_PER_KWH

    return energy_range(joules(fig["value"]), joules(fig.get("low")), joules(fig.get("high")))


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"
