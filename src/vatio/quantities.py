"""One unit policy for every figure a person reads: auto-scaled SI units, 3 significant figures.

Energy: µJ, mJ, J, kJ (below one Wh), Wh, kWh, MWh. Carbon: µg, mg, g, kg, t CO2e.
Power: mW, W, kW. A range uses the unit of its largest end, so "12.3 Wh (9.10–15.0 Wh)"
reads at a glance. JSON output keeps base units (J, g, W, s); only text is scaled.
"""

from __future__ import annotations

import math

J_PER_WH = 3600.0

_ENERGY = [(1e-6, "µJ"), (1e-3, "mJ"), (1.0, "J"), (1e3, "kJ"), (J_PER_WH, "Wh"),
           (J_PER_WH * 1e3, "kWh"), (J_PER_WH * 1e6, "MWh")]  # fmt: skip
_MASS = [(1e-6, "µg"), (1e-3, "mg"), (1.0, "g"), (1e3, "kg"), (1e6, "t")]
_POWER = [(1e-3, "mW"), (1.0, "W"), (1e3, "kW"), (1e6, "MW")]


def _sig(value: float, digits: int = 3) -> str:
    """`digits` significant figures, never in scientific notation, trailing zeros kept."""
    if value == 0:
        return "0"
    rounded = float(f"{value:.{digits}g}")
    decimals = max(digits - 1 - math.floor(math.log10(abs(rounded))), 0)
    return f"{rounded:.{decimals}f}"


def _scale(value: float, units: list[tuple[float, str]]) -> tuple[float, str]:
    """The largest unit in which |value| >= 1 after rounding to 3 significant figures."""
    magnitude = abs(value)
    chosen = units[0]
    for size, name in units:
        if magnitude >= size * 0.9995:
            chosen = (size, name)
    size, name = chosen
    if name == "kJ" and magnitude >= J_PER_WH * 0.9995:  # kJ only below one Wh
        size, name = J_PER_WH, "Wh"
    return size, name


def _format(value: float | None, units: list[tuple[float, str]], suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if value == 0:
        return f"0 {units[2][1] if len(units) > 2 else units[0][1]}{suffix}"
    size, name = _scale(value, units)
    return f"{_sig(value / size)} {name}{suffix}"


def energy(joules: float | None) -> str:
    """'35.7 J', '2.50 kJ', '12.3 Wh', '1.20 kWh'."""
    return _format(joules, _ENERGY)


def carbon(grams: float | None) -> str:
    """'412 mg CO2e', '3.10 g CO2e', '1.25 kg CO2e'."""
    return _format(grams, _MASS, " CO2e")


def power(watts: float | None) -> str:
    return _format(watts, _POWER)


def energy_range(value: float | None, low: float | None, high: float | None) -> str:
    """'12.3 Wh (9.10–15.0 Wh)': the range in the unit of its larger end."""
    return _range(value, low, high, _ENERGY, "")


def carbon_range(value: float | None, low: float | None, high: float | None) -> str:
    return _range(value, low, high, _MASS, " CO2e")


def _range(value, low, high, units, suffix) -> str:
    text = _format(value, units, suffix)
    if value is None or low is None or high is None or math.isclose(low, high, rel_tol=1e-9):
        return text
    size, name = _scale(max(abs(low), abs(high), abs(value)), units)
    return f"{text} ({_sig(low / size)}–{_sig(high / size)} {name}{suffix})"
