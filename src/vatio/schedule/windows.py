"""The greenest time to run: best contiguous window and cheapest interruptible slots.

A series is a step function, so the time-weighted mean over [s, s + D) is
piecewise linear in the start s, with breakpoints where s or s + D crosses a
step boundary. The exact minimum is therefore at one of those breakpoints (or
at the ends of the allowed span); `best_window` evaluates them all at once with
a cumulative integral and ``np.interp``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from vatio.carbon.intensity import IntensitySeries
from vatio.errors import InputError

_TIE_RTOL = 1e-9


def _epoch(moment: datetime | float | None, default: float) -> float:
    if moment is None:
        return default
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    return float(moment)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _seconds(duration: float | timedelta) -> float:
    return duration.total_seconds() if isinstance(duration, timedelta) else float(duration)


Moment = datetime | float  # aware datetime (naive = UTC) or epoch seconds


def _span(
    series: IntensitySeries, duration_s: float, earliest: Moment | None, deadline: Moment | None
) -> tuple[float, float]:
    """The allowed [lo, hi] for the job's time, clipped to the series; errors in one sentence."""
    if not duration_s > 0:
        raise InputError(f"The duration must be positive, not {duration_s:g} s.")
    start_s, end_s = float(series.times_s[0]), series.end_s
    want_lo = _epoch(earliest, start_s)
    want_hi = _epoch(deadline, math.inf)
    if want_hi < want_lo + duration_s - 1e-6:
        raise InputError(
            f"The deadline {_utc(want_hi):%Y-%m-%d %H:%M} UTC is earlier than the earliest start "
            f"{_utc(want_lo):%Y-%m-%d %H:%M} UTC plus the duration ({duration_s / 3600:g} h).",
            "Move the deadline later, start earlier, or shorten the job.",
        )
    lo, hi = max(want_lo, start_s), min(want_hi, end_s)
    if hi - lo < duration_s - 1e-6:
        raise InputError(
            f"The {duration_s / 3600:g} h job does not fit in the forecast horizon "
            f"({_utc(start_s):%Y-%m-%d %H:%M} to {_utc(end_s):%Y-%m-%d %H:%M} UTC) "
            f"after {_utc(lo):%Y-%m-%d %H:%M} UTC.",
            "Use a longer forecast, an earlier start, or a shorter job.",
        )
    return lo, hi


def _cumulative(series: IntensitySeries, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Step edges inside [lo, hi] (relative to lo) and the integral of intensity up to each."""
    t = series.times_s
    i0 = max(int(np.searchsorted(t, lo, side="right")) - 1, 0)
    i1 = int(np.searchsorted(t, hi, side="left"))
    edges = np.empty(i1 - i0 + 1)
    edges[:-1] = t[i0:i1]
    edges[-1] = t[i1] if i1 < len(t) else series.end_s
    edges -= lo
    np.maximum(edges, 0.0, out=edges)
    np.minimum(edges, hi - lo, out=edges)
    integral = np.zeros(len(edges))
    np.cumsum(series.values[i0:i1] * (edges[1:] - edges[:-1]), out=integral[1:])
    return edges, integral


@dataclass(frozen=True)
class Window:
    """A contiguous run window and how it compares with starting at the earliest time."""

    start: datetime
    end: datetime
    mean_intensity: float
    now_intensity: float
    earliest: datetime
    deadline: datetime
    zone: str
    source: str
    energy_kwh: float | None = None

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def delay_s(self) -> float:
        return (self.start - self.earliest).total_seconds()

    @property
    def savings_pct(self) -> float:
        if self.now_intensity <= 0:
            return 0.0
        return 100.0 * (self.now_intensity - self.mean_intensity) / self.now_intensity

    @property
    def gco2e(self) -> float | None:
        return None if self.energy_kwh is None else self.energy_kwh * self.mean_intensity

    @property
    def gco2e_now(self) -> float | None:
        return None if self.energy_kwh is None else self.energy_kwh * self.now_intensity

    def to_dict(self) -> dict[str, Any]:
        saved = None if self.energy_kwh is None else self.gco2e_now - self.gco2e  # type: ignore[operator]
        return {
            "zone": self.zone,
            "source": self.source,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "earliest": self.earliest.isoformat(),
            "deadline": self.deadline.isoformat(),
            "mean_intensity_gco2e_per_kwh": self.mean_intensity,
            "now_intensity_gco2e_per_kwh": self.now_intensity,
            "savings_pct": self.savings_pct,
            "energy_kwh": self.energy_kwh,
            "gco2e": self.gco2e,
            "gco2e_now": self.gco2e_now,
            "gco2e_saved": saved,
        }


def best_window(
    series: IntensitySeries,
    duration_s: float | timedelta,
    earliest: Moment | None = None,
    deadline: Moment | None = None,
    *,
    energy_kwh: float | None = None,
) -> Window:
    """The start in [earliest, deadline - duration] with the lowest mean intensity.

    `deadline` is the latest end. Both are clipped to the series (its horizon);
    naive datetimes are UTC. Ties, within 1e-9 relative, go to the earliest start.
    """
    duration = _seconds(duration_s)
    lo, hi = _span(series, duration, earliest, deadline)
    edges, integral = _cumulative(series, lo, hi)
    last = hi - lo - duration
    candidates = np.concatenate((edges, edges - duration, (last,)))
    np.maximum(candidates, 0.0, out=candidates)
    np.minimum(candidates, last, out=candidates)
    candidates.sort()  # duplicates are harmless: equal starts have equal means
    ends = np.interp(candidates + duration, edges, integral)
    means = (ends - np.interp(candidates, edges, integral)) / duration
    scale = max(1.0, float(np.abs(means).max()))
    best = int(np.argmax(means <= means.min() + _TIE_RTOL * scale))
    start = lo + float(candidates[best])
    return Window(
        start=_utc(start),
        end=_utc(start + duration),
        mean_intensity=float(means[best]),
        now_intensity=float(means[0]),
        earliest=_utc(lo),
        deadline=_utc(hi),
        zone=series.zone,
        source=series.source,
        energy_kwh=energy_kwh,
    )


@dataclass(frozen=True)
class SlotPlan:
    """An interruptible job's plan: run in `chunks`, stay suspended between them."""

    chunks: tuple[tuple[datetime, datetime], ...]
    mean_intensity: float
    now_intensity: float
    earliest: datetime
    deadline: datetime
    zone: str
    source: str
    min_chunk_s: float
    resolution_s: float
    energy_kwh: float | None = None
    _bounds: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        flat = [moment.timestamp() for chunk in self.chunks for moment in chunk]
        object.__setattr__(self, "_bounds", np.asarray(flat, dtype=float))

    @property
    def start(self) -> datetime:
        return self.chunks[0][0]

    @property
    def end(self) -> datetime:
        return self.chunks[-1][1]

    @property
    def duration_s(self) -> float:
        return sum((b - a).total_seconds() for a, b in self.chunks)

    def active_at(self, moment: datetime | float) -> bool:
        """True when the plan says run (a clean slot) at `moment`."""
        t = moment.timestamp() if isinstance(moment, datetime) else float(moment)
        return bool(np.searchsorted(self._bounds, t, side="right") % 2)

    savings_pct = Window.savings_pct
    gco2e = Window.gco2e
    gco2e_now = Window.gco2e_now

    def to_dict(self) -> dict[str, Any]:
        data = Window.to_dict(self)  # type: ignore[arg-type]
        data.update(
            start=self.start.isoformat(),
            end=self.end.isoformat(),
            chunks=[[a.isoformat(), b.isoformat()] for a, b in self.chunks],
            min_chunk_s=self.min_chunk_s,
            resolution_s=self.resolution_s,
        )
        return data


_DP_LIMIT = 30_000_000  # units x states of the DP before falling back to a coarser grid


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60 - 1e-9))


def _grid(
    series: IntensitySeries, lo: float, hi: float, duration: float, min_chunk: float
) -> tuple[float, int, int]:
    """First unit start, unit length (s) and unit count for the slot planner.

    Prefer units that divide the step, duration, min chunk and the offsets of
    earliest and deadline from the step grid, so every unit has one intensity
    and the plan is exact; if that grid is too fine for the DP, use units of
    gcd(step, duration, min chunk) anchored at the earliest start.
    """
    t0, step_min = float(series.times_s[0]), _minutes(series.step_s)
    base = [step_min, _minutes(duration)] + ([_minutes(min_chunk)] if min_chunk > 0 else [])
    first = t0 + 60 * math.ceil((lo - t0) / 60 - 1e-9)
    offsets = [round((first - t0) / 60) % step_min, math.floor((hi - t0) / 60 + 1e-9) % step_min]
    unit = 60 * math.gcd(*base, *offsets)
    n_units = int((hi - first + 1e-6) // unit)
    k, m = duration / unit, max(1.0, min_chunk / unit)
    if n_units * unit >= duration and (m <= 1 or n_units * (k + 1) * (m + 1) <= _DP_LIMIT):
        return first, unit, n_units
    unit = 60 * math.gcd(*base)
    n_units = int((hi - lo + 1e-6) // unit)
    k, m = duration / unit, max(1.0, min_chunk / unit)
    if m > 1 and n_units * (k + 1) * (m + 1) > _DP_LIMIT:
        raise InputError(
            f"Planning {duration / 3600:g} h in chunks of at least {min_chunk / 60:g} min over "
            f"{(hi - lo) / 3600:g} h is too fine-grained for the slot planner.",
            "Use a duration and minimum chunk in whole steps of the data, or a shorter span.",
        )
    return lo, unit, n_units


def min_chunk_for(series: IntensitySeries, min_chunk_s: float | timedelta | None = None) -> float:
    """The shortest chunk of an interruptible plan, in seconds: one data step unless given.

    The one place this default is decided (`cheapest_slots`, `vatio schedule`
    and `vatio run --greenest` all come here); 0 means no minimum. Shorter
    chunks than a step would cut the job into fragments (down to one minute)
    whenever its start is off the data grid.
    """
    return series.step_s if min_chunk_s is None else _seconds(min_chunk_s)


def cheapest_slots(
    series: IntensitySeries,
    duration_s: float | timedelta,
    earliest: Moment | None = None,
    deadline: Moment | None = None,
    min_chunk_s: float | timedelta | None = None,
    *,
    energy_kwh: float | None = None,
) -> SlotPlan:
    """The cheapest `duration_s` of run time in [earliest, deadline], in chunks >= `min_chunk_s`.

    `min_chunk_s` defaults to one step of the series (`min_chunk_for`); 0 means no minimum. The
    span is cut into equal units (see `_grid`), each costing its exact
    integral. With no chunk minimum the K cheapest units are taken (stable
    sort: ties go early); otherwise an exact DP over (units taken, length of
    the current run capped at M units) finds the optimum, O(units x K x M).
    The plan is optimal among plans on that grid; on the step-aligned grid
    (the usual case) every unit has a single intensity. A minimum chunk longer
    than the job means one contiguous chunk. Durations round up to whole minutes.
    """
    duration = 60.0 * _minutes(_seconds(duration_s))
    min_chunk = min_chunk_for(series, min_chunk_s)
    lo, hi = _span(series, duration, earliest, deadline)
    first, unit, n_units = _grid(series, lo, hi, duration, min_chunk)
    k_units = round(duration / unit)
    m_units = min(max(1, math.ceil(min_chunk / unit - 1e-9)), k_units)
    edges, integral = _cumulative(series, lo, hi)
    bounds = (first - lo) + unit * np.arange(n_units + 1, dtype=float)
    costs = np.diff(np.interp(bounds, edges, integral))
    # Snap rounding noise so that equal intensities tie exactly (ties then go early).
    scale = float(np.abs(costs).max()) or 1.0
    ranked = np.round(costs / scale, 9)
    if m_units <= 1:
        chosen = np.sort(np.argsort(ranked, kind="stable")[:k_units])
    else:
        chosen = _dp_slots(ranked, k_units, m_units)
    take = np.zeros(n_units + 2, dtype=np.int8)
    take[chosen + 1] = 1
    change = np.flatnonzero(np.diff(take))
    chunks = tuple(
        (_utc(first + unit * a), _utc(first + unit * b))
        for a, b in zip(change[::2], change[1::2], strict=True)
    )
    return SlotPlan(
        chunks=chunks,
        mean_intensity=float(costs[chosen].sum() / duration),
        now_intensity=float(np.interp(duration, edges, integral) / duration),
        earliest=_utc(lo),
        deadline=_utc(hi),
        zone=series.zone,
        source=series.source,
        min_chunk_s=float(m_units * unit),
        resolution_s=float(unit),
        energy_kwh=energy_kwh,
    )


def _dp_slots(costs: np.ndarray, k: int, m: int) -> np.ndarray:
    """Exact choice of k units in runs of at least m: DP over (taken, run length capped at m)."""
    inf = np.inf
    dp = np.full((k + 1, m + 1), inf)
    dp[0, 0] = 0.0
    from_full_idle = np.zeros((len(costs), k + 1), dtype=bool)  # idle state came from a full run
    from_full_run = np.zeros((len(costs), k + 1), dtype=bool)  # full run came from a full run
    for i, c in enumerate(costs):
        new = np.full_like(dp, inf)
        from_full_idle[i] = dp[:, m] < dp[:, 0]
        new[:, 0] = np.minimum(dp[:, 0], dp[:, m])
        new[1:, 1:m] = dp[:-1, 0 : m - 1] + c
        extend, close = dp[:-1, m] + c, dp[:-1, m - 1] + c
        from_full_run[i, 1:] = extend < close
        new[1:, m] = np.minimum(extend, close)
        dp = new
    state = 0 if dp[k, 0] <= dp[k, m] else m
    taken, chosen = k, []
    for i in range(len(costs) - 1, -1, -1):
        if state == 0:
            state = m if from_full_idle[i, taken] else 0
            continue
        chosen.append(i)
        if state == m and from_full_run[i, taken]:
            state = m
        else:
            state -= 1
        taken -= 1
    return np.asarray(chosen[::-1], dtype=np.int64)
