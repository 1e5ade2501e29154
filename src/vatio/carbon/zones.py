"""Grid zones vatio knows, without loading any series (cheap: no numpy).

Hourly data: Electricity Maps, 13 zones. Yearly averages: Green Algorithms
locations, then Our World in Data countries (ISO 3166 alpha-3 codes).
"""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from vatio.errors import UnknownZoneError

HOURLY_ATTRIBUTION = "Electricity Maps (ODbL 1.0)"


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
