"""Time series for plots and the JSON report: power by device, grid intensity around the run."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

MAX_POINTS = 400
CONTEXT_H = 12  # hours of grid intensity shown each side of the run
MAX_HOURS = 24 * 14


def power_series(record: dict[str, Any], max_points: int = MAX_POINTS) -> dict[str, Any] | None:
    """Power per sensor over time, energy-averaged down to about `max_points` intervals.

    Neighbouring intervals are merged until each point spans at least 1/`max_points`
    of the run, so the points are even in time even when the stored intervals are not
    (older records thinned their timeline unevenly: wide early, fine late). Times are
    seconds from the start of the run; each point covers [t0, t1).
    """
    timeline = record.get("timeline") or {}
    t0, t1 = timeline.get("t0") or [], timeline.get("t1") or []
    power = timeline.get("power_w") or {}
    n = min(len(t0), len(t1))
    if n == 0 or not power:
        return None
    origin = t0[0]
    width = (t1[n - 1] - origin) / max_points if n > max_points else 0.0
    groups: list[tuple[int, int]] = []  # [start, stop) index ranges, each one point
    start = 0
    for i in range(n):
        if t1[i] - t0[start] >= width * (1 - 1e-9) or i == n - 1:
            groups.append((start, i + 1))
            start = i + 1
    out_t0, out_t1 = [], []
    out_p: dict[str, list[float]] = {name: [] for name in power}
    for start, stop in groups:
        dts = [t1[i] - t0[i] for i in range(start, stop)]
        span = sum(dts) or 1.0
        out_t0.append(round(t0[start] - origin, 3))
        out_t1.append(round(t1[stop - 1] - origin, 3))
        for name, values in power.items():
            joules = sum(values[i] * dts[i - start] for i in range(start, stop) if i < len(values))
            out_p[name].append(round(joules / span, 4))
    merged = max(stop - start for start, stop in groups)
    return {"t0_s": out_t0, "t1_s": out_t1, "power_w": out_p, "merged": merged}


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def intensity_context(record: dict[str, Any]) -> dict[str, Any] | None:
    """Hourly grid intensity from 12 h before to 12 h after the run, with the run's span.

    Shows whether the run fell in a clean or a dirty part of the day. None when the run
    has no zone or its zone is unknown to this vatio.
    """
    carbon = record.get("carbon") or {}
    start, end = _epoch(record.get("started_at")), _epoch(record.get("ended_at"))
    if not carbon.get("zone") or start is None:
        return None
    from vatio.carbon.accounting import HOUR_S, intensity_for_hour
    from vatio.carbon.intensity import resolve_zone
    from vatio.errors import UnknownZoneError

    try:
        zone = resolve_zone(carbon["zone"])
    except UnknownZoneError:
        return None
    end = end if end is not None else start
    first = math.floor(start / HOUR_S) * HOUR_S - CONTEXT_H * HOUR_S
    last = math.floor(end / HOUR_S) * HOUR_S + CONTEXT_H * HOUR_S
    hours = min(int((last - first) / HOUR_S) + 1, MAX_HOURS)
    kind = carbon.get("intensity_kind") or "lca"
    points = [intensity_for_hour(zone, first + i * HOUR_S, kind) for i in range(hours)]
    return {
        "zone": zone.code,
        "hour_s": [first + i * HOUR_S for i in range(hours)],
        "intensity_g_per_kwh": [p.value for p in points],
        "basis": sorted({p.basis for p in points}),
        "run_start_s": start,
        "run_end_s": end,
        "hour_labels": [
            datetime.fromtimestamp(first + i * HOUR_S, UTC).strftime("%d %H:00")
            for i in range(hours)
        ],
    }
