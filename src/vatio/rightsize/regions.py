"""Cloud regions from the bundled data-centre table (Green Algorithms): PUE, grid zone, and
the regions worth comparing when the user names none."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from functools import lru_cache

from vatio.data import data_file
from vatio.errors import InputError

AUTO_CLOUD_REGIONS = 3


@dataclass
class Region:
    provider: str
    name: str
    zone: str | None
    pue: float | None
    pue_source: str | None
    zone_source: str | None


@lru_cache(maxsize=1)
def regions() -> list[Region]:
    """Green Algorithms' cloudProviders_datacenters.csv (two header lines)."""
    defaults = provider_pue()
    found = []
    path = data_file("cloudProviders_datacenters.csv")
    with path.open(encoding="utf-8") as handle:
        lines = handle.read().splitlines()[1:]
    for row in csv.DictReader(lines):
        pue_text = (row.get("PUE") or "").strip()
        if pue_text:
            pue, pue_source = (
                float(pue_text),
                "Green Algorithms data-centre table "
                f"({row.get('source_PUE') or 'no source given'})",
            )
        elif row["provider"] in defaults:
            pue, pue_source = defaults[row["provider"]]
        else:
            pue, pue_source = None, None
        zone = (row.get("location") or "").strip() or None
        found.append(
            Region(
                row["provider"],
                row["Name"].strip(),
                zone,
                pue,
                pue_source,
                "Green Algorithms data-centre table" if zone else None,
            )
        )
    return found


@lru_cache(maxsize=1)
def provider_pue() -> dict[str, tuple[float, str]]:
    path = data_file("defaults_PUE.csv")
    with path.open(encoding="utf-8") as handle:
        lines = handle.read().splitlines()[1:]
    return {
        row["provider"]: (
            float(row["PUE"]),
            f"{row['provider']} average, Green Algorithms defaults_PUE.csv ({row['source']})",
        )
        for row in csv.DictReader(lines)
    }


def parse_cloud(text: str) -> list[Region]:
    """'aws:eu-west-3=FR@1.2,gcp:europe-west1': table rows, or what the user gives."""
    table = {(r.provider.lower(), r.name.lower()): r for r in regions()}
    found = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        spec, _, pue_text = item.partition("@")
        spec, _, zone_text = spec.partition("=")
        provider, _, name = spec.partition(":")
        if not name:
            raise InputError(
                f"--cloud {item!r}: write provider:region, e.g. gcp:europe-west1.",
                "Add =ZONE and @PUE for a region the bundled table lacks: aws:eu-west-3=FR@1.2",
            )
        base = table.get((provider.lower(), name.lower()))
        region = (
            Region(**asdict(base))
            if base
            else Region(provider.lower(), name, None, None, None, None)
        )
        if zone_text:
            region.zone, region.zone_source = zone_text.upper(), "--cloud"
        if pue_text:
            try:
                region.pue, region.pue_source = float(pue_text), "--cloud"
            except ValueError:
                raise InputError(f"--cloud {item!r}: the PUE after @ is not a number.") from None
        if region.pue is None and region.provider in provider_pue():
            region.pue, region.pue_source = provider_pue()[region.provider]
        found.append(region)
    return found


def default_clouds(onprem_zone: str | None) -> list[Region]:
    """Regions in the on-premise zone's country, then the cleanest ones the table maps to zones."""
    from vatio.carbon.zones import resolve_zone

    known = []
    for region in regions():
        if not region.zone or region.pue is None:
            continue
        try:
            yearly = resolve_zone(region.zone).yearly_gco2e_per_kwh
        except Exception:  # a location vatio has no intensity for
            continue
        known.append((yearly if yearly is not None else float("inf"), region))
    chosen: list[Region] = []
    if onprem_zone:
        country = onprem_zone.split("-")[0].upper()
        chosen += [r for _, r in known if r.zone and r.zone.split("-")[0] == country][:2]
    wanted = len(chosen) + AUTO_CLOUD_REGIONS
    for _, region in sorted(known, key=lambda item: item[0]):
        if len(chosen) >= wanted:
            break
        if region not in chosen:
            chosen.append(region)
    return chosen
