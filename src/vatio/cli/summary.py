"""Human summary of one run record (the dict form of a RunResult)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vatio.cli.output import fmt_duration, fmt_g, fmt_kwh


def _range(low: float | None, high: float | None, fmt) -> str:
    if low is None or high is None or abs(high - low) < 1e-12:
        return ""
    return f" ({fmt(low)}–{fmt(high)})"


def render_summary(record: dict[str, Any], console: Console) -> None:
    totals = record.get("totals", {})
    carbon = record.get("carbon")
    title = f"vatio run {record['id']}" + (f" · {record['name']}" if record.get("name") else "")
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    add_row = table.add_row

    def row(label: str, value: str) -> None:
        add_row(escape(label), escape(value))

    exit_code = record.get("exit_code")
    status = record.get("status", "?") + (f" (exit {exit_code})" if exit_code is not None else "")
    row("status", status)
    row("duration", fmt_duration(record.get("duration_s")))
    energy = totals.get("energy_j")
    row(
        "energy (machine)",
        f"{fmt_kwh(energy)} kWh"
        + _range(totals.get("energy_low_j"), totals.get("energy_high_j"), fmt_kwh)
        + f"  [{totals.get('method', '?')}]",
    )
    if totals.get("measured_j") and totals.get("estimated_j"):
        row(
            "  of which",
            f"measured {fmt_kwh(totals['measured_j'])} kWh + "
            f"estimated {fmt_kwh(totals['estimated_j'])} kWh",
        )
    if totals.get("process_energy_j") is not None:
        share = (totals["process_energy_j"] / energy * 100) if energy else 0.0
        row(
            "energy (this job)",
            f"{fmt_kwh(totals['process_energy_j'])} kWh ({share:.0f}% of machine)",
        )
    idle = record.get("idle")
    if idle:
        row("energy above idle", f"{fmt_kwh(idle['active_energy_j'])} kWh")
    for unit, joules in (totals.get("energy_per_unit_j") or {}).items():
        row(f"energy per {unit.rstrip('s')}", f"{joules:.4g} J")
    if carbon:
        row(
            "carbon",
            f"{fmt_g(carbon['co2e_g'])} gCO2e"
            + _range(carbon.get("co2e_low_g"), carbon.get("co2e_high_g"), fmt_g)
            + f"  (zone {carbon['zone']}, PUE {carbon['pue']:g}, "
            f"{carbon['mean_intensity_g_per_kwh']:.0f} g/kWh {carbon['intensity_kind'].upper()})",
        )
        row("intensity source", carbon.get("intensity_source") or "—")
    else:
        row("carbon", "not computed: no grid zone (use --zone, VATIO_ZONE or the profile)")
    for device in record.get("devices", []):
        note = f"  {device['errors']} read errors" if device.get("errors") else ""
        row(
            f"  {device['name']}",
            f"{fmt_kwh(device['energy_j'])} kWh  [{device['method']}]{note}",
        )
    for phase in record.get("phases", []):
        grams = f", {fmt_g(phase['co2e_g'])} g" if phase.get("co2e_g") is not None else ""
        row(
            f"  phase {phase['name']}",
            f"{fmt_duration(phase['duration_s'])}, {fmt_kwh(phase['energy_j'])} kWh{grams}",
        )
    if record.get("error"):
        row("error", str(record["error"]))
    console.print(table)
