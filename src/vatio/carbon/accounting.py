"""Carbon of a run: energy x PUE x grid intensity, hour by hour.

Where the run's year has hourly data, that hour's intensity is used; where it
has none, the same hour of the zone's latest bundled year (`proxy_year`) stands
in (a proxy, and the result says so); zones without hourly data use their
yearly average (the rule is in `vatio.carbon.zones`). A forecast series given
by the user (the one a `--greenest` run planned on) takes precedence for the
hours it covers.

`account_run` is the one place the carbon of a run and of its phases is computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vatio.carbon.intensity import IntensitySeries, Zone, load_hourly, proxy_year, resolve_zone
from vatio.measure.result import RunResult

HOUR_S = 3600.0
BASIS_HOURLY = "hourly"
BASIS_PROXY = "hourly-proxy"
BASIS_YEARLY = "yearly-average"
BASIS_FORECAST = "forecast"


@dataclass(frozen=True)
class HourIntensity:
    value: float
    basis: str
    source: str


def _proxy_time(when: datetime, year: int) -> datetime:
    day = 28 if (when.month, when.day) == (2, 29) else when.day
    return when.replace(year=year, day=day)


def intensity_for_hour(
    zone: Zone, hour_s: float, kind: str = "lca", forecast: IntensitySeries | None = None
) -> HourIntensity:
    """Intensity in force during the UTC hour starting at `hour_s`."""
    if forecast is not None and _covers(forecast, hour_s):
        return HourIntensity(float(forecast.value_at(hour_s)), BASIS_FORECAST, forecast.source)
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


def _covers(series: IntensitySeries, t: float) -> bool:
    times = series.times_s
    return float(times[0]) <= t < float(times[-1]) + series.step_s


def mean_intensity(
    zone: Zone,
    start_s: float,
    end_s: float,
    kind: str = "lca",
    forecast: IntensitySeries | None = None,
) -> float:
    """Time-weighted intensity over a span, hour by hour."""
    if end_s <= start_s:
        hour = math.floor(start_s / HOUR_S) * HOUR_S
        return intensity_for_hour(zone, hour, kind, forecast).value
    total = 0.0
    t = start_s
    while t < end_s:
        hour = math.floor(t / HOUR_S) * HOUR_S
        stop = min(end_s, hour + HOUR_S)
        total += intensity_for_hour(zone, hour, kind, forecast).value * (stop - t)
        t = stop
    return total / (end_s - start_s)


def account_run(
    result: RunResult,
    zone: Zone | str,
    pue: float = 1.0,
    kind: str = "lca",
    forecast: IntensitySeries | None = None,
) -> None:
    """Set `result.carbon` and every phase's `co2e_g`: the one place carbon is computed.

    A result without an hourly breakdown (e.g. one test of a pytest session) is
    accounted over its start and end instead.
    """
    zone = resolve_zone(zone) if isinstance(zone, str) else zone
    hourly = result.hourly
    if not hourly and result.energy_j is not None:
        hourly = _one_span(result)
    carbon = run_carbon(hourly, zone, pue, kind, forecast)
    if result.process_energy_j is None:
        carbon["process_co2e_g"] = None
    result.carbon = carbon
    for phase in result.phases:
        intensity = mean_intensity(
            zone, _epoch(phase.started_at), _epoch(phase.ended_at), kind, forecast
        )
        phase.co2e_g = phase.energy_j / 3.6e6 * pue * intensity


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _one_span(result: RunResult) -> list[dict[str, Any]]:
    """An hourly breakdown for a result that has none: its energy at its mid-point's hour."""
    start = _epoch(result.started_at)
    end = _epoch(result.ended_at) if result.ended_at else start
    hour = math.floor((start + end) / 2 / HOUR_S) * HOUR_S
    process = result.process_energy_j or 0.0
    values = [result.energy_j or 0.0, result.energy_low_j or 0.0, result.energy_high_j or 0.0]
    iso = datetime.fromtimestamp(hour, UTC).isoformat().replace("+00:00", "Z")
    return [{"hour": iso, "energy": {"all": [*values, process]}}]


def run_carbon(
    hourly: list[dict[str, Any]],
    zone_code: Zone | str,
    pue: float = 1.0,
    kind: str = "lca",
    forecast: IntensitySeries | None = None,
) -> dict[str, Any]:
    """gCO2e of a run from its per-hour energy (the `hourly` field of a RunResult)."""
    zone = resolve_zone(zone_code) if isinstance(zone_code, str) else zone_code
    per_hour = []
    totals = [0.0, 0.0, 0.0, 0.0]
    energy_total = 0.0
    bases: dict[str, str] = {}
    for entry in hourly:
        hour_s = datetime.fromisoformat(entry["hour"].replace("Z", "+00:00")).timestamp()
        intensity = intensity_for_hour(zone, hour_s, kind, forecast)
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
