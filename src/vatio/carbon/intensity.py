"""Carbon-intensity series: the bundled hourly data, yearly averages, zone lookup.

A series is a step function: value i holds from ``times_s[i]`` until
``times_s[i+1]`` (the last one for ``step_s``). Times are UTC epoch seconds.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources

import numpy as np

from vatio.errors import UnknownZoneError

HOURLY_ATTRIBUTION = "Electricity Maps (ODbL 1.0)"
KINDS = ("lca", "direct")


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


@dataclass(frozen=True)
class Zone:
    """A zone vatio knows: hourly data for some years, or only a yearly average."""

    code: str
    name: str
    hourly_years: tuple[int, ...]
    yearly_gco2e_per_kwh: float | None
    yearly_source: str | None


def _data_file(name: str):
    return resources.files("vatio.data").joinpath(name)


@lru_cache(maxsize=1)
def _hourly_index() -> dict[str, tuple[int, ...]]:
    years: dict[str, list[int]] = {}
    for entry in _data_file("intensity").iterdir():
        if entry.name.endswith(".csv.gz"):
            zone, year = entry.name.removesuffix(".csv.gz").rsplit("_", 1)
            years.setdefault(zone, []).append(int(year))
    return {zone: tuple(sorted(ys)) for zone, ys in years.items()}


@lru_cache(maxsize=1)
def _yearly_table() -> dict[str, tuple[str, float, str]]:
    table: dict[str, tuple[str, float, str]] = {}
    with _data_file("intensity_yearly.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            table.setdefault(
                row["zone"].upper(), (row["name"], float(row["gco2e_per_kwh"]), row["source"])
            )
    return table


def hourly_zones() -> list[str]:
    """Zones with bundled hourly data."""
    return sorted(_hourly_index())


def known_zone_codes() -> list[str]:
    return sorted(set(_hourly_index()) | set(_yearly_table()))


def resolve_zone(code: str) -> Zone:
    """The zone for `code` (case-insensitive); an error listing close matches otherwise."""
    key = code.strip().upper()
    hourly = _hourly_index().get(key, ())
    yearly = _yearly_table().get(key)
    if not hourly and yearly is None:
        raise UnknownZoneError(f"Unknown grid zone {code!r}.", _zone_hint(code))
    name = yearly[0] if yearly else key
    return Zone(
        code=key,
        name=name,
        hourly_years=hourly,
        yearly_gco2e_per_kwh=yearly[1] if yearly else None,
        yearly_source=yearly[2] if yearly else None,
    )


def _zone_hint(code: str) -> str:
    table = _yearly_table()
    by_name = {name.upper(): zone for zone, (name, _, _) in table.items()}
    candidates = difflib.get_close_matches(code.upper(), known_zone_codes(), n=4, cutoff=0.5)
    candidates += [
        by_name[n] for n in difflib.get_close_matches(code.upper(), list(by_name), n=3, cutoff=0.6)
    ]
    unique = list(dict.fromkeys(candidates))
    if unique:
        return "Close matches: " + ", ".join(unique) + ". `vatio zones` lists them all."
    return (
        "`vatio zones` lists the zones vatio knows (hourly data for "
        + ", ".join(hourly_zones())
        + ")."
    )


@lru_cache(maxsize=64)
def load_hourly(zone: str, year: int, kind: str = "lca") -> IntensitySeries:
    """The bundled Electricity Maps hourly series of one zone and year."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    key = zone.upper()
    if year not in _hourly_index().get(key, ()):
        raise UnknownZoneError(
            f"No bundled hourly data for zone {zone!r} in {year}.",
            f"Years available: {', '.join(map(str, _hourly_index().get(key, ()))) or 'none'}.",
        )
    raw = gzip.decompress(_data_file(f"intensity/{key}_{year}.csv.gz").read_bytes()).decode()
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
    years = _hourly_index().get(zone.upper())
    if not years:
        raise UnknownZoneError(f"No bundled hourly data for zone {zone!r}.", _zone_hint(zone))
    return load_hourly(zone, years[-1], kind)
