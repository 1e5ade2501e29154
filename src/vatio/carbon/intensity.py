"""Carbon-intensity series: the bundled hourly data, yearly averages, zone lookup.

A series is a step function: value i holds from ``times_s[i]`` until
``times_s[i+1]`` (the last one for ``step_s``). Times are UTC epoch seconds.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np

from vatio.carbon.zones import (
    HOURLY_ATTRIBUTION,
    Zone,
    _hourly_index,
    hourly_zones,
    known_zone_codes,
    proxy_year,
    resolve_zone,
)
from vatio.data import data_file
from vatio.errors import UnknownZoneError

KINDS = ("lca", "direct")
__all__ = [
    "HOURLY_ATTRIBUTION",
    "KINDS",
    "IntensitySeries",
    "Zone",
    "hourly_zones",
    "known_zone_codes",
    "latest_hourly",
    "load_hourly",
    "proxy_year",
    "resolve_zone",
]


@dataclass(frozen=True)
class IntensitySeries:
    """Intensity in gCO2e/kWh over time for one zone."""

    zone: str
    times_s: np.ndarray
    values: np.ndarray
    step_s: float
    source: str
    kind: str = "lca"
    estimated: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.times_s) != len(self.values) or len(self.values) == 0:
            raise ValueError("an intensity series needs as many times as values, at least one")

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(float(self.times_s[0]), UTC)

    @property
    def end_s(self) -> float:
        return float(self.times_s[-1]) + self.step_s

    @property
    def end(self) -> datetime:
        return datetime.fromtimestamp(self.end_s, UTC)

    def index_at(self, t_s: float) -> int:
        """Index of the value in force at epoch second `t_s` (clamped to the series)."""
        i = int(np.searchsorted(self.times_s, t_s, side="right")) - 1
        return min(max(i, 0), len(self.values) - 1)

    def value_at(self, t_s: float) -> float:
        return float(self.values[self.index_at(t_s)])

    def covers(self, start_s: float, end_s: float) -> bool:
        return float(self.times_s[0]) <= start_s and end_s <= self.end_s

    def mean_between(self, start_s: float, end_s: float) -> float:
        """Time-weighted mean over [start_s, end_s); the value at start when the span is empty."""
        if end_s <= start_s:
            return self.value_at(start_s)
        edges = np.append(self.times_s, self.end_s)
        lo = np.clip(edges[:-1], start_s, end_s)
        hi = np.clip(edges[1:], start_s, end_s)
        weights = hi - lo
        total = float(weights.sum())
        if total <= 0:
            return self.value_at(start_s)
        return float((weights * self.values).sum() / total)


@lru_cache(maxsize=64)
def load_hourly(zone: str, year: int, kind: str = "lca") -> IntensitySeries:
    """The bundled Electricity Maps hourly series of one zone and year."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    key = zone.upper()
    if key not in _hourly_index():
        key = resolve_zone(zone).code  # an alias (ESP) or a cloud region
    if year not in _hourly_index().get(key, ()):
        raise UnknownZoneError(
            f"No bundled hourly data for zone {zone!r} in {year}.",
            f"Years available: {', '.join(map(str, _hourly_index().get(key, ()))) or 'none'}.",
        )
    raw = gzip.decompress(data_file(f"intensity/{key}_{year}.csv.gz").read_bytes()).decode()
    header, _, body = raw.partition("\n")
    meta = dict(part.split("=", 1) for part in header.lstrip("# ").split())
    table = np.loadtxt(io.StringIO(body), delimiter=",", skiprows=1, ndmin=2)
    start = datetime.fromisoformat(meta["start"].replace("Z", "+00:00")).timestamp()
    step = float(meta["step"])
    times = start + step * np.arange(len(table), dtype=np.float64)
    column = 0 if kind == "lca" else 1
    return IntensitySeries(
        zone=key,
        times_s=times,
        values=table[:, column].copy(),
        step_s=step,
        source=f"{HOURLY_ATTRIBUTION} hourly {key} {year} ({kind.upper()})",
        kind=kind,
        estimated=table[:, 3].astype(bool),
    )


def latest_hourly(zone: str, kind: str = "lca") -> IntensitySeries:
    """The zone's latest bundled hourly year (its `proxy_year`); aliases and regions resolve."""
    found = resolve_zone(zone)
    return load_hourly(found.code, proxy_year(found), kind)
