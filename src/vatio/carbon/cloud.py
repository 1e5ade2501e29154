"""Cloud regions as grid zones: ``provider:region`` through the bundled data-centre table.

Green Algorithms' table (``cloudProviders_datacenters.csv``) gives each region of
the providers it lists (gcp, azure) a location code (ES, NO, US-CA, ...). A region
resolves to hourly data where the location has some — the location itself, or the
hourly zone that covers it (`COVERING_HOURLY_ZONE`) — else to the location's
yearly figure. The zone's name shows the mapping, e.g.
"gcp:us-west2 → US-CAL-CISO (Electricity Maps hourly)". Region names match
case-insensitively, ignoring spaces, dashes and a bracketed note, so Azure's
display name "West US" and its CLI name "westus" are the same region.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import replace
from functools import lru_cache

from vatio.carbon.zones import (
    COVERING_HOURLY_ZONE,
    _catalog,
    _hourly_index,
    resolve_zone,
)
from vatio.data import data_file
from vatio.errors import UnknownZoneError


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@lru_cache(maxsize=1)
def _regions() -> dict[str, dict[str, tuple[str, str, str]]]:
    """provider -> normalised region name -> (name as in the table, location, place)."""
    regions: dict[str, dict[str, tuple[str, str, str]]] = {}
    with data_file("cloudProviders_datacenters.csv").open(encoding="utf-8") as handle:
        next(handle)  # a line of notes above the header
        for row in csv.DictReader(handle):
            provider, name = row["provider"].strip().lower(), row["Name"].strip()
            entry = (name, row["location"].strip().upper(), row["location_freeForm"].strip())
            table = regions.setdefault(provider, {})
            table.setdefault(_key(name), entry)
            table.setdefault(_key(re.sub(r"\(.*?\)", "", name)), entry)
    return regions


def resolve_cloud_region(text: str):
    """The Zone of a ``provider:region`` name; UnknownZoneError naming what is known."""
    provider, _, region = (part.strip() for part in text.partition(":"))
    regions = _regions()
    table = regions.get(provider.lower())
    if table is None:
        raise UnknownZoneError(
            f"Unknown cloud provider {provider!r} in {text!r}.",
            f"The bundled data-centre table (Green Algorithms) lists regions of "
            f"{', '.join(sorted(regions))}. For another provider, give the grid zone of the "
            "region instead, e.g. --zone US-CAL-CISO for a California region.",
        )
    found = table.get(_key(region))
    if found is None:
        names = sorted({name for name, _, _ in table.values()})
        close = difflib.get_close_matches(region, names, n=4, cutoff=0.5)
        listed = close or names[:6]
        raise UnknownZoneError(
            f"Unknown {provider.lower()} region {region!r}.",
            ("Close matches: " if close else "Regions include: ")
            + ", ".join(f"{provider.lower()}:{n}" for n in listed)
            + ". Or give the region's grid zone (`vatio zones`).",
        )
    name, location, place = found
    label = f"{provider.lower()}:{name}"
    if not location:
        raise UnknownZoneError(
            f"The data-centre table gives no location for {label} ({place}).",
            "Give the grid zone of that region with --zone (`vatio zones` lists them).",
        )
    code = COVERING_HOURLY_ZONE.get(location, location)
    if code not in _hourly_index():
        code = location
    if code not in _catalog():
        raise UnknownZoneError(
            f"{label} is in {location}, a location vatio has no intensity figure for.",
            "Give the grid zone of that region with --zone (`vatio zones` lists them).",
        )
    zone = resolve_zone(code)
    if zone.hourly_years:
        basis = "Electricity Maps hourly"
    else:
        assert zone.yearly is not None
        year = f" {zone.yearly.year} data" if zone.yearly.year else ""
        basis = f"yearly average, {zone.yearly.source}{year}"
    return replace(zone, name=f"{label} → {zone.code} ({basis})", via=label)
