"""The load pattern of a run history: how many hours a day the hardware was busy, on how
many days, how steadily — what decides between owning a machine and renting one."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vatio.rightsize.evidence import RunFit

DAY_S = 86400.0


@dataclass
class LoadPattern:
    days: float
    busy_hours_per_day: float
    active_days_share: float
    daily_variation: float | None  # coefficient of variation of busy hours per day
    utilisation: float | None
    utilisation_source: str


def run_span(fit: RunFit) -> tuple[float, float] | None:
    if not fit.started_at or not fit.ended_at:
        return None
    start = datetime.fromisoformat(fit.started_at.replace("Z", "+00:00")).timestamp()
    end = datetime.fromisoformat(fit.ended_at.replace("Z", "+00:00")).timestamp()
    return (start, end) if end > start else None


def load_pattern(fits: list[RunFit]) -> LoadPattern | None:
    spans = sorted(s for f in fits if (s := run_span(f)) is not None)
    if not spans:
        return None
    merged: list[list[float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    first_day = datetime.fromtimestamp(merged[0][0], UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    last = merged[-1][1]
    days = max(1, int((last - first_day.timestamp()) // DAY_S) + 1)
    per_day = [0.0] * days
    for start, end in merged:
        t = start
        while t < end:
            index = int((t - first_day.timestamp()) // DAY_S)
            day_end = (first_day + timedelta(days=index + 1)).timestamp()
            stop = min(end, day_end)
            per_day[index] += (stop - t) / 3600
            t = stop
    mean = statistics.fmean(per_day)
    variation = statistics.pstdev(per_day) / mean if mean > 0 and days > 1 else None
    gpu = [g.utilisation for f in fits for g in f.gpus if g.utilisation is not None]
    cpu = [
        f.job_cores_mean / f.cpu_count for f in fits if f.job_cores_mean is not None and f.cpu_count
    ]
    if gpu:
        utilisation, source = statistics.median(gpu), "median GPU utilisation of the runs"
    elif cpu:
        utilisation, source = statistics.median(cpu), "median share of the CPUs the jobs used"
    else:
        utilisation, source = None, "not recorded"
    return LoadPattern(
        days=(last - merged[0][0]) / DAY_S,
        busy_hours_per_day=mean,
        active_days_share=sum(1 for h in per_day if h > 0) / days,
        daily_variation=variation,
        utilisation=utilisation,
        utilisation_source=source,
    )
