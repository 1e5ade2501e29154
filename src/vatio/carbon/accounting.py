"""Carbon of a run: energy x PUE x grid intensity, hour by hour.

Where the run's year has hourly data, that hour's intensity is used; where it
has none, the same hour of the zone's latest bundled year (`proxy_year`) stands
in (a proxy, and the result says so); zones without hourly data use their
yearly average (the rule is in `vatio.carbon.zones`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vatio.carbon.intensity import Zone, load_hourly, proxy_year, resolve_zone

HOUR_S = 3600.0
BASIS_HOURLY = "hourly"
BASIS_PROXY = "hourly-proxy"
BASIS_YEARLY = "yearly-average"


@dataclass(frozen=True)
class HourIntensity:
    value: float
    basis: str
    source: str


def _proxy_time(when: datetime, year: int) -> datetime:
    day = 28 if (when.month, when.day) == (2, 29) else when.day
    return when.replace(year=year, day=day)


def intensity_for_hour(zone: Zone, hour_s: float, kind: str = "lca") -> HourIntensity:
    """Intensity in force during the UTC hour starting at `hour_s`."""
    when = datetime.fromtimestamp(hour_s, UTC)
    if zone.hourly_years:
        if when.year in zone.hourly_years:
            series = load_hourly(zone.code, when.year, kind)
            return HourIntensity(series.value_at(hour_s), BASIS_HOURLY, series.source)
        year = proxy_year(zone)
        series = load_hourly(zone.code, year, kind)
        proxy = _proxy_time(when, year).timestamp()
        source = f"{series.source}, same hour of {year} as a proxy for {when.year}"
        return HourIntensity(series.value_at(proxy), BASIS_PROXY, source)
    assert zone.yearly_gco2e_per_kwh is not None
    source = f"{zone.yearly_source} yearly average for {zone.name}"
    return HourIntensity(zone.yearly_gco2e_per_kwh, BASIS_YEARLY, source)


def mean_intensity(zone: Zone, start_s: float, end_s: float, kind: str = "lca") -> float:
    """Time-weighted intensity over a span, hour by hour."""
    if end_s <= start_s:
        hour = math.floor(start_s / HOUR_S) * HOUR_S
        return intensity_for_hour(zone, hour, kind).value
    total = 0.0
    t = start_s
    while t < end_s:
        hour = math.floor(t / HOUR_S) * HOUR_S
        stop = min(end_s, hour + HOUR_S)
        total += intensity_for_hour(zone, hour, kind).value * (stop - t)
        t = stop
    return total / (end_s - start_s)


def run_carbon(
    hourly: list[dict[str, Any]], zone_code: str, pue: float = 1.0, kind: str = "lca"
) -> dict[str, Any]:
    """gCO2e of a run from its per-hour energy (the `hourly` field of a RunResult)."""
    zone = resolve_zone(zone_code)
    per_hour = []
    totals = [0.0, 0.0, 0.0, 0.0]
    energy_total = 0.0
    bases: dict[str, str] = {}
    for entry in hourly:
        hour_s = datetime.fromisoformat(entry["hour"].replace("Z", "+00:00")).timestamp()
        intensity = intensity_for_hour(zone, hour_s, kind)
        bases[intensity.basis] = intensity.source
        sums = [sum(values[i] for values in entry["energy"].values()) for i in range(4)]
        factor = pue * intensity.value / 3.6e6
        for i in range(4):
            totals[i] += sums[i] * factor
        energy_total += sums[0]
        per_hour.append(
            {
                "hour": entry["hour"],
                "energy_j": sums[0],
                "intensity_g_per_kwh": intensity.value,
                "co2e_g": sums[0] * factor,
                "basis": intensity.basis,
            }
        )
    weighted = (
        sum(h["energy_j"] * h["intensity_g_per_kwh"] for h in per_hour) / energy_total
        if energy_total > 0
        else (per_hour[0]["intensity_g_per_kwh"] if per_hour else None)
    )
    return {
        "co2e_g": totals[0],
        "co2e_low_g": totals[1],
        "co2e_high_g": totals[2],
        "process_co2e_g": totals[3],
        "zone": zone.code,
        "zone_name": zone.name,
        "pue": pue,
        "intensity_kind": kind,
        "basis": "+".join(sorted(bases)) or None,
        "intensity_source": "; ".join(bases[b] for b in sorted(bases)) or None,
        "mean_intensity_g_per_kwh": weighted,
        "per_hour": per_hour,
    }
