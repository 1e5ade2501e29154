"""Human summary of one run record (the dict form of a RunResult)."""

from __future__ import annotations

from typing import Any

from vatio.cli.output import fmt_duration
from vatio.quantities import carbon as fmt_carbon
from vatio.quantities import carbon_range, energy_range
from vatio.quantities import energy as fmt_energy


def render_summary(record: dict[str, Any], console: Any) -> None:
    """The summary as a rich table (for commands that use rich anyway)."""
    from rich.markup import escape
    from rich.table import Table

    title, rows = summary_rows(record)
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    for label, value in rows:
        table.add_row(escape(label), escape(value))
    console.print(table)


def write_summary(record: dict[str, Any], stream: Any) -> None:
    """The summary as plain aligned text: what `vatio run` prints (no rich import to pay
    for at the end of every job)."""
    from vatio.cli.output import one_line

    title, rows = summary_rows(record)
    width = max(len(label) for label, _ in rows)
    lines = [one_line(title)] + [f"  {label:<{width}}  {one_line(value)}" for label, value in rows]
    stream.write("\n".join(lines) + "\n")


def summary_rows(record: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """The title and (label, value) rows of a run's summary."""
    totals = record.get("totals", {})
    carbon = record.get("carbon")
    title = f"vatio run {record['id']}" + (f" · {record['name']}" if record.get("name") else "")
    rows: list[tuple[str, str]] = []

    def row(label: str, value: str) -> None:
        rows.append((label, value))

    exit_code = record.get("exit_code")
    status = record.get("status", "?") + (f" (exit {exit_code})" if exit_code is not None else "")
    row("status", status)
    row("duration", fmt_duration(record.get("duration_s")))
    energy = totals.get("energy_j")
    multinode = (record.get("extensions") or {}).get("multinode") or {}
    if multinode:
        role = (
            "measures this node's devices"
            if multinode.get("measures_devices")
            else f"measures no device: its node's energy is in part {multinode.get('node_part')}"
        )
        row("multi-node part", f"{multinode.get('group_id')} on {multinode.get('host')}; {role}")
    row(
        "energy (machine)",
        energy_range(energy, totals.get("energy_low_j"), totals.get("energy_high_j"))
        + f"  [{totals.get('method', '?')}]",
    )
    if totals.get("measured_j") and totals.get("estimated_j"):
        row(
            "  of which",
            f"measured {fmt_energy(totals['measured_j'])} + "
            f"estimated {fmt_energy(totals['estimated_j'])}",
        )
    if totals.get("process_energy_j") is not None:
        share = (totals["process_energy_j"] / energy * 100) if energy else 0.0
        row(
            "energy (this job)",
            f"{fmt_energy(totals['process_energy_j'])} ({share:.0f}% of machine)",
        )
    idle = record.get("idle")
    if idle:
        row("energy above idle", fmt_energy(idle["active_energy_j"]))
    overhead = record.get("overhead") or {}
    if overhead.get("energy_j") is not None:
        row(
            "measurement overhead",
            f"{fmt_energy(overhead['energy_j'])}, {overhead.get('cpu_s', 0):.2f} s CPU "
            f"({overhead.get('scope', 'vatio')}; not in the job's figures)",
        )
    for unit, joules in (totals.get("energy_per_unit_j") or {}).items():
        row(f"energy per {unit.rstrip('s')}", fmt_energy(joules))
    if carbon:
        row(
            "carbon",
            carbon_range(carbon["co2e_g"], carbon.get("co2e_low_g"), carbon.get("co2e_high_g"))
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
            f"{fmt_energy(device['energy_j'])}  [{device['method']}]{note}",
        )
    for phase in record.get("phases", []):
        grams = f", {fmt_carbon(phase['co2e_g'])}" if phase.get("co2e_g") is not None else ""
        row(
            f"  phase {phase['name']}",
            f"{fmt_duration(phase['duration_s'])}, {fmt_energy(phase['energy_j'])}{grams}",
        )
    if record.get("error"):
        row("error", str(record["error"]))
    for warning in record.get("warnings") or []:
        row("warning", str(warning))
    for path in record.get("unsaved") or []:
        row("saved as", f"{path} (the store could not be written; `vatio runs import` it)")
    return title, rows
