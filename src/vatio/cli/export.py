"""Export of the run store as CSV (summary columns) or JSON (full records).

A malformed record is skipped with a warning (the export goes on; exit 1 at the
end). CSV cells that a spreadsheet would run as a formula are neutralised
(OWASP CSV injection: a leading = + - @ tab or carriage return gets a quote).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any, TextIO

CSV_COLUMNS = [
    "id", "name", "command", "status", "exit_code", "started_at", "ended_at", "duration_s",
    "energy_kwh", "energy_low_kwh", "energy_high_kwh", "process_energy_kwh", "co2e_g", "method",
    "zone", "username", "project", "host", "group_id", "digest",
]  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _kwh(joules: float | None) -> float | None:
    return None if joules is None else joules / 3.6e6


def neutralise(value: Any) -> Any:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_export(store: Any, fmt: str, output: Path | None) -> int:
    """Write the export; returns how many malformed records were skipped."""
    skipped: list[str] = []

    def malformed(run_id: str, reason: str) -> None:
        skipped.append(run_id)
        sys.stderr.write(f"vatio: warning: run {run_id} skipped: {reason}\n")

    to_file = output is not None and str(output) != "-"
    handle: TextIO = output.open("w", encoding="utf-8", newline="") if to_file else sys.stdout
    try:
        if fmt == "json":
            handle.write("[")
            for index, record in enumerate(store.iter_records(on_malformed=malformed)):
                handle.write(",\n" if index else "\n")
                handle.write(json.dumps(record, indent=2, default=str))
            handle.write("\n]\n")
        else:
            writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for row in store.list_runs(limit=None):
                cells = {
                    **{k: row.get(k) for k in CSV_COLUMNS if k in row},
                    "command": " ".join(row["command"]) if row["command"] else "",
                    "energy_kwh": _kwh(row["energy_j"]),
                    "energy_low_kwh": _kwh(row["energy_low_j"]),
                    "energy_high_kwh": _kwh(row["energy_high_j"]),
                    "process_energy_kwh": _kwh(row["process_energy_j"]),
                }
                writer.writerow({k: neutralise(v) for k, v in cells.items()})
    finally:
        if to_file:
            handle.close()
    if skipped:
        sys.stderr.write(
            f"vatio: {len(skipped)} malformed record(s) skipped; `vatio ledger verify` says more\n"
        )
    return len(skipped)
