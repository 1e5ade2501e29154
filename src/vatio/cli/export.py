"""Export of the run store as CSV (summary columns) or JSON (full records)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import TextIO

CSV_COLUMNS = [
    "id", "name", "command", "status", "exit_code", "started_at", "ended_at", "duration_s",
    "energy_kwh", "energy_low_kwh", "energy_high_kwh", "process_energy_kwh", "co2e_g", "method",
    "zone", "digest",
]  # fmt: skip


def _kwh(joules: float | None) -> float | None:
    return None if joules is None else joules / 3.6e6


def write_export(store, fmt: str, output: Path | None) -> None:
    handle: TextIO = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt == "json":
            json.dump(list(store.iter_records()), handle, indent=2, default=str)
            handle.write("\n")
            return
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in store.list_runs(limit=None):
            writer.writerow(
                {
                    **{k: row.get(k) for k in CSV_COLUMNS if k in row},
                    "command": " ".join(row["command"]) if row["command"] else "",
                    "energy_kwh": _kwh(row["energy_j"]),
                    "energy_low_kwh": _kwh(row["energy_low_j"]),
                    "energy_high_kwh": _kwh(row["energy_high_j"]),
                    "process_energy_kwh": _kwh(row["process_energy_j"]),
                }
            )
    finally:
        if output:
            handle.close()
