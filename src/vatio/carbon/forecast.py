"""Intensity for the future: user forecast files, the typical-year proxy, a seasonal forecast.

Forecast files are step series with one constant step. Times are ISO-8601; a
time without an offset is taken as UTC (the Electricity Maps export's
``Datetime (UTC)`` column is naive UTC too). Every malformed row raises an
``InputError`` naming the file and line, so the user can fix it in an editor.
"""

from __future__ import annotations

import calendar
import csv
import json
import math
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from vatio.carbon.intensity import IntensitySeries, latest_hourly
from vatio.errors import InputError

DAY_S = 86400.0
_TIME_COLUMNS = ("time", "datetime", "timestamp", "datetime (utc)")
_VALUE_COLUMNS = ("intensity", "carbon_intensity", "carbonintensity", "gco2e_per_kwh")
_EM_TIME = "datetime (utc)"
_EM_VALUE = {
    "lca": "carbon intensity gco₂eq/kwh (lca)",
    "direct": "carbon intensity gco₂eq/kwh (direct)",
}
_FILE_HINT = "A forecast file needs `time,intensity` columns (or the Electricity Maps CSV export)."
# A decimal number as written in a CSV cell: no `nan`/`inf`, no `1_000`, no non-ASCII digits,
# all of which Python's float() would accept.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def parse_time(text: str) -> float:
    """Epoch seconds from ISO-8601 text; naive times are UTC. Raises ValueError."""
    moment = datetime.fromisoformat(str(text).strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _fmt_s(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds % 900 == 0 else f"{seconds:g} s"


def intensity_value(value: object, where: str) -> float:
    """A finite, non-negative real number from `value` (a number, or text such as a CSV cell).

    Booleans are refused (JSON `true` is not 1 gCO2e/kWh), and so is text that is not a plain
    decimal number; `where` names the file and row in the error.
    """
    if isinstance(value, bool):
        raise InputError(
            f"{where}: the intensity {value!r} is a boolean, not a number.",
            "Give the intensity in gCO2e/kWh as a number, e.g. 123.4.",
        )
    if isinstance(value, str):
        text = value.strip()
        if not _DECIMAL.fullmatch(text):
            raise InputError(
                f"{where}: cannot read the intensity {value!r}.",
                "Write it as a decimal number in gCO2e/kWh, e.g. 123.4.",
            )
        number = float(text)
    elif isinstance(value, numbers.Real):  # int, float and numpy's number types
        number = float(value)
    else:
        raise InputError(
            f"{where}: the intensity {value!r} is not a number.",
            "Give the intensity in gCO2e/kWh as a number, e.g. 123.4.",
        )
    if not math.isfinite(number) or number < 0:
        raise InputError(f"{where}: the intensity {value!r} is negative or not finite.")
    return number


def series_from_points(
    times: Sequence[str],
    values: Sequence[object],
    where: Sequence[str],
    *,
    name: str,
    zone: str,
    source: str,
    kind: str = "lca",
) -> IntensitySeries:
    """A validated step series; `where[i]` names row i ("line 5") in error messages."""
    if len(times) < 2:
        raise InputError(
            f"{name} has {len(times)} data row(s); at least two are needed to know the step.",
            _FILE_HINT,
        )
    t = np.empty(len(times))
    v = np.empty(len(times))
    for i, (text, value) in enumerate(zip(times, values, strict=True)):
        try:
            t[i] = parse_time(text)
        except (TypeError, ValueError):
            raise InputError(
                f"{name} {where[i]}: cannot read the time {text!r}.",
                "Use ISO-8601, e.g. 2026-11-28T08:00:00Z (no offset means UTC).",
            ) from None
        v[i] = intensity_value(value, f"{name} {where[i]}")
        if i and t[i] <= t[i - 1]:
            order = "repeats" if t[i] == t[i - 1] else "comes before"
            raise InputError(
                f"{name} {where[i]}: the time {text!r} {order} the time of {where[i - 1]}; "
                "times must strictly increase."
            )
    step = float(t[1] - t[0])
    gaps = np.flatnonzero(np.abs(np.diff(t) - step) > 1e-6)
    if gaps.size:
        i = int(gaps[0]) + 1
        raise InputError(
            f"{name} {where[i]}: the time {times[i]!r} is {_fmt_s(t[i] - t[i - 1])} after "
            f"{where[i - 1]}, but the step is {_fmt_s(step)} (a gap or an irregular step).",
            "Fill the gap or resample the forecast to one constant step.",
        )
    return IntensitySeries(zone=zone, times_s=t, values=v, step_s=step, source=source, kind=kind)


#: the zone of a forecast that names none and was given none (the plan does not need one)
NO_ZONE = "?"


def load_forecast(
    path: str | Path,
    *,
    zone: str | None = None,
    kind: str = "lca",
    zone_from: str = "--zone",
) -> IntensitySeries:
    """A user forecast: CSV `time,intensity`, the Electricity Maps CSV export, or JSON.

    The file's own zone (the export's ``Zone Id`` column, a JSON ``"zone"``) is
    used when no `zone` is given; a given zone that differs from it is refused,
    naming where it came from (`zone_from`, e.g. "--zone" or "environment
    VATIO_ZONE"). With neither, the series' zone is `NO_ZONE`.
    """
    from vatio.userfiles import read_user_text

    path = Path(path)
    name = path.name
    text = read_user_text(path, "forecast file", 64 * 1024 * 1024)
    source = f"forecast file {name}"
    if path.suffix.lower() == ".json":
        times, values, where, file_zone = _read_json(text, name)
    else:
        times, values, where, file_zone = _read_csv(text, name, kind)
    zone_code = _reconcile_zone(name, file_zone, zone, zone_from)
    return series_from_points(
        times, values, where, name=name, zone=zone_code, source=source, kind=kind
    )


def _reconcile_zone(name: str, file_zone: object, zone: str | None, zone_from: str) -> str:
    """The canonical zone of a forecast from the file's zone and the one given (if any)."""
    from vatio.carbon.zones import resolve_zone
    from vatio.errors import UnknownZoneError

    given = resolve_zone(zone).code if zone else None
    if file_zone is None:
        return given or NO_ZONE
    if not isinstance(file_zone, str) or not file_zone.strip():
        raise InputError(
            f"{name}: the zone {file_zone!r} is not a zone code.",
            'Write it as text, e.g. "zone": "DE", or remove it and give --zone.',
        )
    try:
        named = resolve_zone(file_zone).code
    except UnknownZoneError:
        raise InputError(
            f"{name} names the zone {file_zone.strip()[:40]!r}, which vatio does not know.",
            "Fix the zone in the file (see `vatio zones`), or remove it and give --zone.",
        ) from None
    if given is not None and given != named:
        raise InputError(
            f"{name} is a forecast for zone {named}, but the zone is {given} (from {zone_from}).",
            f"Give --zone {named}, or a forecast for {given}.",
        )
    return named


def _read_csv(text: str, name: str, kind: str) -> tuple[list, list, list, str | None]:
    reader = csv.reader(text.splitlines())
    header: list[str] | None = None
    times: list[str] = []
    values: list[str] = []
    where: list[str] = []
    zone: str | None = None
    columns: tuple[int, int, int | None] = (0, 0, None)
    for row in reader:
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [cell.strip() for cell in row]
            columns = _csv_columns(header, name, reader.line_num, kind)
            continue
        t_col, v_col, z_col = columns
        if len(row) <= max(t_col, v_col):
            raise InputError(
                f"{name} line {reader.line_num}: has {len(row)} fields, fewer than the header."
            )
        times.append(row[t_col])
        values.append(row[v_col].strip())
        where.append(f"line {reader.line_num}")
        if z_col is not None and zone is None and len(row) > z_col:
            zone = row[z_col].strip() or None
    if header is None:
        raise InputError(f"{name} is empty.", _FILE_HINT)
    return times, values, where, zone


def _csv_columns(header: list[str], name: str, line: int, kind: str) -> tuple[int, int, int | None]:
    lower = [cell.lower() for cell in header]
    if _EM_TIME in lower and any(cell.startswith("carbon intensity") for cell in lower):
        wanted = _EM_VALUE[kind]
        if wanted not in lower:
            raise InputError(
                f"{name} line {line}: no {wanted!r} column for --intensity {kind}.", _FILE_HINT
            )
        zone = lower.index("zone id") if "zone id" in lower else None
        return lower.index(_EM_TIME), lower.index(wanted), zone
    t_col = next((lower.index(c) for c in _TIME_COLUMNS if c in lower), None)
    v_col = next((lower.index(c) for c in _VALUE_COLUMNS if c in lower), None)
    for col, label in ((t_col, "time"), (v_col, "intensity")):
        if col is None:
            raise InputError(
                f"{name} line {line}: no {label!r} column (columns: {', '.join(header)}).",
                _FILE_HINT,
            )
    return t_col, v_col, None  # type: ignore[return-value]


def _read_json(text: str, name: str) -> tuple[list, list, list, str | None]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{name} line {error.lineno}: not valid JSON ({error.msg}).") from None
    except RecursionError:
        raise InputError(f"{name}: JSON nested too deeply to be a forecast.", _FILE_HINT) from None
    zone = data.get("zone") if isinstance(data, dict) else None
    if isinstance(data, dict):
        data = next((data[k] for k in ("forecast", "data") if isinstance(data.get(k), list)), None)
    if not isinstance(data, list):
        raise InputError(f"{name}: expected a list of {{time, intensity}} objects.", _FILE_HINT)
    times, values, where = [], [], []
    for i, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            item = {}
        t = item.get("time", item.get("datetime"))
        key = next((k for k in ("intensity", "carbonIntensity") if k in item), "intensity")
        v = item.get(key)
        if t is None or v is None:
            raise InputError(f"{name} entry {i}: needs 'time' (or 'datetime') and 'intensity'.")
        if isinstance(v, bool) or not isinstance(v, int | float):
            kind = "a boolean" if isinstance(v, bool) else f"a JSON {type(v).__name__}"
            raise InputError(
                f"{name} entry {i}, key {key!r}: the intensity {v!r} is {kind}, not a number.",
                "Write the intensity in gCO2e/kWh as a JSON number, e.g. 123.4 (no quotes).",
            )
        intensity_value(v, f"{name} entry {i}, key {key!r}")
        times.append(t)
        values.append(v)
        where.append(f"entry {i}")
    return times, values, where, zone


#: the longest span the typical-year proxy covers: a year and a day of hours, plus slack
#: for partial hours (vatio plans at most 366 days ahead: vatio.schedule.request)
PROXY_MAX_HOURS = 367 * 24
_FEB29_H = (31 + 28) * 24  # first hour of 29 February in a leap year


def typical_year_proxy(
    zone: str, start: datetime, end: datetime, *, kind: str = "lca"
) -> IntensitySeries:
    """Hourly series over [start, end] built from the zone's latest bundled year, same hour.

    Not a forecast: each future hour takes the value of the same month, day and
    UTC hour of the zone's `proxy_year` (29 February takes 28 February). At most
    `PROXY_MAX_HOURS` hours: one bundled year says nothing more about later ones.
    """
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = max(1, math.ceil((end.timestamp() - first.timestamp()) / 3600))
    if hours > PROXY_MAX_HOURS:
        raise InputError(
            f"The typical-year proxy covers at most {PROXY_MAX_HOURS // 24} days, "
            f"not {hours / 24:.0f}.",
            "Plan at most a year ahead.",
        )
    history = latest_hourly(zone, kind)
    ref_year = history.start.year
    # Hour of the year of every hour of the span, on a 365-day calendar (29 February folded
    # onto 28 February, later days back by one), then placed in the reference year.
    index = np.empty(hours, dtype=np.int64)
    hour = first
    i = 0
    while i < hours:
        year_start = datetime(hour.year, 1, 1, tzinfo=UTC)
        next_year = datetime(hour.year + 1, 1, 1, tzinfo=UTC)
        count = min(hours - i, math.ceil((next_year - hour).total_seconds() / 3600))
        offset = int((hour - year_start).total_seconds() // 3600) + np.arange(count)
        if calendar.isleap(hour.year):
            offset = np.where(offset >= _FEB29_H, offset - 24, offset)
        index[i : i + count] = offset
        hour += timedelta(hours=count)
        i += count
    if calendar.isleap(ref_year):  # reference hours after 28 February move one day on
        index = np.where(index >= _FEB29_H, index + 24, index)
    index = np.clip(index, 0, len(history.values) - 1)
    return IntensitySeries(
        zone=history.zone,
        times_s=first.timestamp() + 3600.0 * np.arange(hours, dtype=np.float64),
        values=history.values[index].copy(),
        step_s=3600.0,
        source=f"typical-year proxy from Electricity Maps {history.zone} {ref_year} history "
        f"({kind.upper()}) — not a forecast",
        kind=kind,
        estimated=None if history.estimated is None else history.estimated[index].copy(),
    )


def _steps_per_day(history: IntensitySeries) -> int:
    per_day = DAY_S / history.step_s
    if abs(per_day - round(per_day)) > 1e-9:
        raise InputError(
            f"A seasonal forecast needs a step that divides a day, not {history.step_s:g} s."
        )
    return round(per_day)


def seasonal_forecast(
    history: IntensitySeries, issue_time: datetime, horizon_h: float, *, days: int = 7
) -> IntensitySeries:
    """Forecast = mean of the same time of day over the last `days` days known at issue time.

    A value counts as known when its step has ended by `issue_time`. The
    forecast starts at the step that contains `issue_time`.
    """
    _steps_per_day(history)
    t0, step = float(history.times_s[0]), history.step_s
    issue = issue_time.timestamp()
    first = t0 + math.floor((issue - t0) / step) * step
    n = max(1, math.ceil((issue + horizon_h * 3600 - first) / step))
    targets = first + step * np.arange(n)
    lags = np.arange(1, days + math.ceil(horizon_h / 24) + 2)
    past = targets[:, None] - DAY_S * lags[None, :]
    known = past + step <= issue + 1e-6
    idx = np.rint((past - t0) / step).astype(np.int64)
    known &= (idx >= 0) & (idx < len(history.values))
    rank = np.cumsum(known, axis=1)
    use = known & (rank <= days)
    if not use.any(axis=1).all():
        raise InputError(
            f"The history ({history.start:%Y-%m-%d} to {history.end:%Y-%m-%d}) has no data in the "
            f"{days} days before {issue_time:%Y-%m-%d %H:%M} UTC for a seasonal forecast."
        )
    vals = np.where(use, history.values[np.clip(idx, 0, len(history.values) - 1)], 0.0)
    forecast = vals.sum(axis=1) / use.sum(axis=1)
    return IntensitySeries(
        zone=history.zone,
        times_s=targets,
        values=forecast,
        step_s=step,
        source=f"seasonal forecast (mean of the same hour over the previous {days} days) "
        f"from {history.source}",
        kind=history.kind,
    )


@dataclass(frozen=True)
class ForecastError:
    """Error of a forecast method on history: mean absolute (gCO2e/kWh) and percentage error."""

    mae: float
    mape_pct: float
    n: int
    days: int
    horizon_h: float


def seasonal_forecast_error(
    series: IntensitySeries, *, days: int = 7, horizon_h: float = 24
) -> ForecastError:
    """MAE and MAPE of `seasonal_forecast` issued at every step, over all leads < horizon.

    Vectorised: a target `lead` steps after issue uses the days k0..k0+days-1
    back, with k0 = lead // steps_per_day + 1, whatever the issue time.
    """
    per_day = _steps_per_day(series)
    v = series.values
    leads = math.ceil(horizon_h * 3600 / series.step_s)
    abs_sum = pct_sum = 0.0
    n = n_pct = 0
    for k0 in range((leads - 1) // per_day + 1):
        count = min(per_day, leads - k0 * per_day)  # leads sharing this k0
        back = (k0 + days) * per_day
        if len(v) <= back:
            continue
        forecast = (
            sum(
                v[back - (k0 + k) * per_day : len(v) - (k0 + k) * per_day]
                for k in range(1, days + 1)
            )
            / days
        )
        actual = v[back:]
        err = np.abs(forecast - actual)
        abs_sum += count * float(err.sum())
        n += count * err.size
        positive = actual > 0
        pct_sum += count * float((err[positive] / actual[positive]).sum())
        n_pct += count * int(positive.sum())
    if n == 0:
        raise InputError(f"The series is too short for a {days}-day seasonal forecast.")
    return ForecastError(abs_sum / n, 100 * pct_sum / max(n_pct, 1), n, days, horizon_h)
