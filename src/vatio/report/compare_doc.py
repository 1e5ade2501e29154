"""The comparison section: runs side by side, and what changed in their environments."""

from __future__ import annotations

from typing import Any

from vatio.report.blocks import Block, Details, Heading, Para, Plot, Table
from vatio.report.figures import fmt_energy, fmt_number, fmt_range, fmt_seconds, singular

MAX_PACKAGE_ROWS = 200


def signed_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}%"


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)


def comparison_blocks(report: dict[str, Any]) -> list[Block]:
    comparison = report["comparison"]
    rows = []
    for row in comparison["rows"]:
        per_unit = ", ".join(
            f"{fmt_number(j)} J/{singular(u)}" for u, j in row["energy_per_unit_j"].items()
        )
        rows.append(
            [
                row["id"] + (" (baseline)" if row["id"] == comparison["baseline"] else ""),
                row["name"] or "—",
                row["kind"],
                fmt_seconds(row["duration_s"]),
                fmt_energy(row["energy"]),
                fmt_range(row["co2e"]),
                per_unit or "—",
                fmt_range(row["sci_per_run"]),
                signed_pct(row["delta_energy_pct"]),
                signed_pct(row["delta_co2e_pct"]),
            ]
        )
    headers = [
        "run",
        "name",
        "kind",
        "duration",
        "energy (range)",
        "carbon (range)",
        "energy per unit",
        "SCI per run",
        "Δ energy",
        "Δ carbon",
    ]
    blocks: list[Block] = [
        Heading(2, "Comparison", anchor="comparison"),
        Para(
            f"Differences are against the first run, {comparison['baseline']}. Ranges overlap "
            "where a difference is within the uncertainty of the estimates."
        ),
        Table(headers, rows),
        Plot("comparison_plot", report, "Energy of the compared runs"),
        Heading(3, "Differences in environment"),
    ]
    for diff in comparison["environment"]:
        blocks += _environment(diff)
    return blocks


def _environment(diff: dict[str, Any]) -> list[Block]:
    title = f"{diff['id']} against {diff['against']}"
    if diff["identical"]:
        return [Para(f"{title}: same hardware, software, packages and settings.")]
    blocks: list[Block] = [Para(f"{title}:")]
    if diff["changes"]:
        rows = [
            [c["area"], c["field"], _value(c["from"]), _value(c["to"])] for c in diff["changes"]
        ]
        blocks.append(Table(["area", "what", diff["against"], diff["id"]], rows))
    packages = diff["packages"]
    if packages is None:
        blocks.append(Para("Packages cannot be compared: a run has no package list.", note=True))
        return blocks
    rows = [["added", p["name"], "—", p["version"]] for p in packages["added"]]
    rows += [["removed", p["name"], p["version"], "—"] for p in packages["removed"]]
    rows += [["changed", p["name"], p["from"], p["to"]] for p in packages["changed"]]
    if not rows:
        blocks.append(Para("Installed packages: identical."))
        return blocks
    counts = ", ".join(f"{len(packages[k])} {k}" for k in ("added", "removed", "changed"))
    table = Table(["change", "package", diff["against"], diff["id"]], rows[:MAX_PACKAGE_ROWS])
    blocks.append(table if len(rows) <= 15 else Details(f"Packages: {counts}", [table]))
    return blocks
