"""Grid zones vatio knows, without loading any series (cheap: no numpy).

One canonical code per zone, Electricity Maps style: ISO 3166-1 alpha-2 for a
country (ES, US), ``COUNTRY-PART`` for a part of one (US-CAL-CISO, IT-NO, US-CA).
A country's alpha-3 code (ESP, USA) is an alias that resolves to the very same
zone. A cloud region, ``provider:region`` (gcp:us-west2, azure:westeurope),
resolves through the bundled data-centre table to the zone of its location
(`vatio.carbon.cloud`).

Which figure a zone's carbon uses — the one rule:

1. bundled **hourly** data (Electricity Maps) when the zone has any: each hour's
   own value where its year is bundled, else the same hour of the zone's latest
   bundled year (`proxy_year`);
2. else the **yearly average with the most recent data year** (a figure whose
   year is not stated counts as the oldest); on a tie, Our World in Data (one
   method for every country) before Green Algorithms.

The figures that lose stay visible (`Zone.other_yearly`, `vatio zones --json`).
"""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from vatio.data import data_file
from vatio.errors import UnknownZoneError

HOURLY_ATTRIBUTION = "Electricity Maps (ODbL 1.0)"
# On a tie of data years, the earlier source in this list wins.
SOURCE_PREFERENCE = ("Our World in Data", "Green Algorithms")
# Yearly zones that are not hourly zones themselves, and the bundled hourly zone that covers
# them. Cloud regions located there use it; `--zone US-CA` keeps its yearly figure and the
# error for scheduling there points to it. California ISO serves most of California's load
# (not Los Angeles city's own utility, LADWP, a separate balancing area).
COVERING_HOURLY_ZONE = {"US-CA": "US-CAL-CISO"}


@dataclass(frozen=True)
class YearlyFigure:
    """One source's yearly average for a zone."""

    gco2e_per_kwh: float
    source: str
    year: int | None
    place: str

    def label(self) -> str:
        """The source and the year its data are from, e.g. 'Our World in Data (2023 data)'."""
        year = f"{self.year} data" if self.year else "year unstated"
        return f"{self.source} ({year})"


@dataclass(frozen=True)
class Zone:
    """A zone vatio knows: hourly data for some years, and/or a yearly average."""

    code: str
    name: str
    hourly_years: tuple[int, ...]
    yearly_gco2e_per_kwh: float | None
    yearly_source: str | None
    yearly: YearlyFigure | None = None
    other_yearly: tuple[YearlyFigure, ...] = ()
    aliases: tuple[str, ...] = ()
    subzones: tuple[str, ...] = field(default=(), repr=False)
    via: str | None = None

    @property
    def carbon_basis(self) -> str:
        """'hourly' (Electricity Maps) or 'yearly' (an average): what a run's carbon uses."""
        return "hourly" if self.hourly_years else "yearly"

    @property
    def proxy_year(self) -> int | None:
        """The year that stands in for hours of years without bundled data (None: no hourly)."""
        return self.hourly_years[-1] if self.hourly_years else None

    def to_dict(self) -> dict[str, Any]:
        def figure(f: YearlyFigure) -> dict[str, Any]:
            return {
                "gco2e_per_kwh": f.gco2e_per_kwh,
                "source": f.source,
                "data_year": f.year,
                "place": f.place,
            }

        return {
            "code": self.code,
            "name": self.name,
            "aliases": list(self.aliases),
            "carbon_basis": self.carbon_basis,
            "hourly_years": list(self.hourly_years),
            "hourly_source": HOURLY_ATTRIBUTION if self.hourly_years else None,
            "proxy_year": self.proxy_year,
            "yearly_gco2e_per_kwh": self.yearly_gco2e_per_kwh,
            "yearly_source": self.yearly_source,
            "other_yearly": [figure(f) for f in self.other_yearly],
            "subzones": list(self.subzones),
            "via": self.via,
        }


def _rows(name: str) -> list[dict[str, str]]:
    with data_file(name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def _hourly_index() -> dict[str, tuple[int, ...]]:
    years: dict[str, list[int]] = {}
    for entry in data_file("intensity").iterdir():
        if entry.name.endswith(".csv.gz"):
            zone, year = entry.name.removesuffix(".csv.gz").rsplit("_", 1)
            years.setdefault(zone, []).append(int(year))
    return {zone: tuple(sorted(ys)) for zone, ys in years.items()}


@lru_cache(maxsize=1)
def _iso() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """alpha-3 -> alpha-2, and alpha-2 -> (alpha-3, name), from the bundled ISO 3166-1 table."""
    rows = _rows("iso3166.csv")
    return (
        {row["alpha_3"]: row["alpha_2"] for row in rows},
        {row["alpha_2"]: (row["alpha_3"], row["name"]) for row in rows},
    )


def _rank(figure: YearlyFigure) -> tuple[int, int]:
    """Sort key of the rule: most recent data year first, then the preferred source."""
    preference = (
        SOURCE_PREFERENCE.index(figure.source)
        if figure.source in SOURCE_PREFERENCE
        else len(SOURCE_PREFERENCE)
    )
    return (-(figure.year or 0), preference)


@lru_cache(maxsize=1)
def _catalog() -> dict[str, Zone]:
    yearly: dict[str, list[YearlyFigure]] = {}
    for row in _rows("intensity_yearly.csv"):
        year = int(row["data_year"]) if row["data_year"] else None
        figure = YearlyFigure(float(row["gco2e_per_kwh"]), row["source"], year, row["name"])
        yearly.setdefault(row["zone"].upper(), []).append(figure)
    hourly = _hourly_index()
    hourly_names = {row["zone"]: row["name"] for row in _rows("intensity/zones.csv")}
    _, by_alpha2 = _iso()
    codes = sorted(set(hourly) | set(yearly))
    parts_of: dict[str, list[str]] = {}
    for code in codes:  # US-CAL-CISO is a part of US (and of US-CAL, were there such a zone)
        pieces = code.split("-")
        for i in range(1, len(pieces)):
            parts_of.setdefault("-".join(pieces[:i]), []).append(code)
    catalog = {}
    for code in codes:
        figures = sorted(yearly.get(code, ()), key=_rank)
        best = figures[0] if figures else None
        iso = by_alpha2.get(code)
        name = hourly_names.get(code) or (iso[1] if iso else None) or (best.place if best else code)
        parts = parts_of.get(code, [])
        catalog[code] = Zone(
            code=code,
            name=name,
            hourly_years=hourly.get(code, ()),
            yearly_gco2e_per_kwh=best.gco2e_per_kwh if best else None,
            yearly_source=best.label() if best else None,
            yearly=best,
            other_yearly=tuple(figures[1:]),
            aliases=(iso[0],) if iso else (),
            subzones=tuple(sorted(parts, key=lambda c: (c not in hourly, c))),
        )
    return catalog


def hourly_zones() -> list[str]:
    """Zones with bundled hourly data."""
    return sorted(_hourly_index())


def known_zone_codes() -> list[str]:
    """Every zone's canonical code, once (aliases and cloud regions are not listed)."""
    return list(_catalog())


def resolve_zone(code: str) -> Zone:
    """The zone for `code`: canonical, alpha-3 alias or provider:region (case-insensitive)."""
    text = code.strip()
    if ":" in text:
        from vatio.carbon.cloud import resolve_cloud_region

        return resolve_cloud_region(text)
    key = text.upper()
    catalog = _catalog()
    if key in catalog:
        return catalog[key]
    alias = _iso()[0].get(key)
    if alias in catalog:
        return catalog[alias]
    raise UnknownZoneError(f"Unknown grid zone {code!r}.", _zone_hint(code))


def proxy_year(zone: str | Zone) -> int:
    """The latest bundled hourly year of `zone`: the stand-in for hours of other years.

    The one place a proxy year is chosen (accounting, the typical-year proxy, scheduling).
    """
    found = resolve_zone(zone) if isinstance(zone, str) else zone
    if found.proxy_year is None:
        raise no_hourly_error(found)
    return found.proxy_year


def no_hourly_error(zone: Zone) -> UnknownZoneError:
    """The error for a zone that has only a yearly average where hourly data are needed."""
    if zone.via:
        what = f"{zone.via} (location {zone.code})"
    else:
        what = f"{zone.code} ({zone.name})" if zone.name != zone.code else zone.code
    yearly = (
        f", only a yearly average ({zone.yearly_gco2e_per_kwh:g} gCO2e/kWh, {zone.yearly_source})"
        if zone.yearly_gco2e_per_kwh is not None
        else ""
    )
    hourly_parts = [code for code in zone.subzones if code in _hourly_index()]
    covering = COVERING_HOURLY_ZONE.get(zone.code)
    if covering:
        where = f"{covering} has hourly data and covers most of {zone.code}."
    elif hourly_parts:
        where = f"Hourly data within {zone.code}: {', '.join(hourly_parts)}."
    else:
        where = f"Zones with hourly data: {', '.join(hourly_zones())}."
    return UnknownZoneError(
        f"Zone {what} has no bundled hourly data{yearly}.",
        f"{where} A forecast file (--forecast) or a live provider works for any zone.",
    )


def _zone_hint(code: str) -> str:
    catalog = _catalog()
    aliases = {alias: zone.code for zone in catalog.values() for alias in zone.aliases}
    by_name = {zone.name.upper(): zone.code for zone in catalog.values()}
    query = code.strip().upper()
    candidates = difflib.get_close_matches(query, list(catalog), n=4, cutoff=0.5)
    if len(query) == 3:  # maybe a mistyped alpha-3 code
        for alias in difflib.get_close_matches(query, list(aliases), n=2, cutoff=0.6):
            if aliases[alias] not in candidates:
                candidates.append(f"{aliases[alias]} ({alias})")
    candidates += [by_name[n] for n in difflib.get_close_matches(query, list(by_name), 3, 0.6)]
    unique = [c for c in dict.fromkeys(candidates) if c != query]
    if unique:
        return "Close matches: " + ", ".join(unique) + ". `vatio zones` lists them all."
    return (
        "`vatio zones` lists the zones vatio knows (hourly data for "
        + ", ".join(hourly_zones())
        + "); a cloud region is written provider:region, e.g. gcp:us-west2."
    )
