"""Green hours for a federated run (§5.3): when to train, with vatio's scheduler.

The whole run goes in the window with the lowest mean intensity before the
deadline (`best_window`); with `interruptible`, the rounds go in the cheapest
slots instead (`cheapest_slots`) and the server waits at a round boundary
until the next slot opens (clients wait idle; nothing is suspended mid-round).
When clients sit in other zones (`client_zones`), the window minimises the
mean of all the zones' intensities (equal weights, one per party), and the
plan records what each zone's grid is expected to be in it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from vatio.errors import InputError

ROUND_ESTIMATE_S = 8.0
START_ESTIMATE_S = 20.0


def estimate_duration_s(rounds: int) -> float:
    """A rough length of the bundled example on a small machine (say so in the plan)."""
    return START_ESTIMATE_S + ROUND_ESTIMATE_S * rounds


@dataclass
class GreenPlan:
    start: datetime
    slots: list[tuple[float, float]] | None  # epoch seconds, when interruptible
    record: dict[str, Any]


def _series(zones: list[str], earliest: datetime, deadline: datetime, kind: str) -> Any:
    from vatio.carbon.intensity import IntensitySeries
    from vatio.carbon.providers import series_for_zone

    sourced = [series_for_zone(z, earliest, deadline, kind=kind) for z in zones]
    if len(sourced) == 1:
        return sourced[0].series, list(sourced[0].notes), {zones[0]: sourced[0].series}
    base = sourced[0].series
    values = np.mean([[s.series.value_at(t) for t in base.times_s] for s in sourced], axis=0)
    combined = IntensitySeries(
        zone="+".join(zones),
        times_s=base.times_s,
        values=values,
        step_s=base.step_s,
        source="mean of " + ", ".join(s.series.source for s in sourced),
        kind=kind,
    )
    notes = [n for s in sourced for n in s.notes]
    return combined, notes, {z: s.series for z, s in zip(zones, sourced, strict=True)}


def _mean(series: Any, start_s: float, end_s: float, step_s: float = 300.0) -> float:
    points = np.arange(start_s, end_s, step_s)
    return float(np.mean([series.value_at(t) for t in points])) if len(points) else 0.0


def green_plan(
    zone: str,
    *,
    duration_s: float,
    within_s: float | None = None,
    deadline: datetime | None = None,
    client_zones: list[str] | None = None,
    interruptible: bool = False,
    min_chunk_s: float | None = None,
    kind: str = "lca",
    estimated: bool = True,
) -> GreenPlan:
    from vatio.schedule import best_window, cheapest_slots

    if within_s is not None and deadline is not None:
        raise InputError("Give either --within or --deadline, not both.")
    earliest = datetime.now(UTC).replace(microsecond=0)
    end = deadline or earliest + timedelta(seconds=within_s if within_s is not None else 86400)
    zones = list(dict.fromkeys([zone, *(client_zones or [])]))
    series, notes, per_zone = _series(zones, earliest, end, kind)
    record: dict[str, Any] = {
        "zones": zones,
        "duration_s": duration_s,
        "duration_source": "estimated from the rounds" if estimated else "given",
        "notes": notes,
    }
    if interruptible:
        slots = cheapest_slots(series, duration_s, earliest, end, min_chunk_s)
        spans = [(a.timestamp(), b.timestamp()) for a, b in slots.chunks]
        record.update({"mode": "interruptible", **_jsonable(slots.to_dict())})
        start = slots.start
    else:
        window = best_window(series, duration_s, earliest, end)
        spans = None
        record.update({"mode": "window", **_jsonable(window.to_dict())})
        start = window.start
    s0 = start.timestamp()
    record["per_zone"] = {
        z: {
            "window_mean_gco2e_per_kwh": _mean(per_zone[z], s0, s0 + duration_s),
            "now_gco2e_per_kwh": _mean(
                per_zone[z], earliest.timestamp(), earliest.timestamp() + duration_s
            ),
        }
        for z in zones
    }
    return GreenPlan(start, spans, record)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(data, default=str))


def wait_for_slot(
    slots: list[tuple[float, float]] | None, clock=time.time, sleep=time.sleep
) -> float:
    """Block until now is inside a slot (or after the last one); seconds waited."""
    if not slots:
        return 0.0
    waited = 0.0
    now = clock()
    for start, end in slots:
        if now < end:
            if now < start:
                sleep(start - now)
                waited = start - now
            return waited
    return 0.0
