"""Everyday equivalents of a carbon figure (km by car, ...), as Green Algorithms shows them.

Factors come from the bundled `referenceValues.csv` (Green Algorithms, with the
sources it cites); each equivalent keeps the carbon figure's range.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from typing import Any

from vatio.data import data_file
from vatio.report.figures import scaled

#: (variable in referenceValues.csv, what the carbon equals, unit)
CHOICES: tuple[tuple[str, str, str], ...] = (
    ("passengerCar_EU_perkm", "driving an average EU passenger car", "km"),
    ("passengerCar_US_perkm", "driving an average US passenger car", "km"),
    ("train_perkm", "travelling by train", "km"),
    ("flight_economy_perkm", "flying economy", "km"),
    ("streaming_netflix_perhour", "streaming video", "hours"),
    ("tree_month", "what a tree absorbs", "tree-months"),
)


@lru_cache(maxsize=1)
def reference_values() -> dict[str, tuple[float, str]]:
    """variable -> (value, source text) from the bundled Green Algorithms table."""
    path = data_file("referenceValues.csv")
    rows: dict[str, tuple[float, str]] = {}
    with path.open(encoding="utf-8") as handle:
        lines = handle.read().splitlines()[1:]  # the first line is a caption
    for row in csv.DictReader(lines):
        try:
            rows[row["variable"]] = (float(row["value"]), row.get("source") or "")
        except (TypeError, ValueError):
            continue
    return rows


def equivalents(co2e: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The carbon figure in everyday units; [] when the carbon is unknown."""
    if not co2e or co2e.get("value") is None:
        return []
    table = reference_values()
    found = []
    for variable, label, unit in CHOICES:
        if variable not in table:
            continue
        grams_per_unit, source = table[variable]
        method = f"gCO2e ÷ {grams_per_unit:g} g per {unit.rstrip('s')} (Green Algorithms: {source})"
        item = scaled(co2e, 1.0 / grams_per_unit, unit, method)
        item["label"] = label
        item["factor_g"] = grams_per_unit
        found.append(item)
    return found
