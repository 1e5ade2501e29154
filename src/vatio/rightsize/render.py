"""Tables for `vatio rightsize`."""

from __future__ import annotations

from typing import Any


def _joules(value: float) -> str:
    if value >= 3.6e5:
        return f"{value / 3.6e6:.3f} kWh"
    return f"{value / 1000:.2f} kJ" if value >= 1000 else f"{value:.1f} J"


def render_fit(result: dict[str, Any], console: Any) -> None:
    from rich.markup import escape

    colours = {"under-used": "yellow", "fits": "green", "unknown": "dim"}
    console.print(f"vatio rightsize · {len(result['runs'])} run(s) · store {result['store']}")
    for finding in result["findings"]:
        colour = colours[finding["status"]]
        status, evidence = finding["status"], escape(finding["evidence"])
        console.print(f"[{colour}]{status:<10}[/] {finding['run_id']}  {evidence}")
        for suggestion in finding["suggestions"]:
            console.print(f"{'':12}→ {escape(suggestion)}")
        saving = finding.get("saving")
        if saving:
            share = (
                f" ({saving['share_low']:.0%}–{saving['share_high']:.0%} of its energy)"
                if saving["share_high"] is not None
                else ""
            )
            console.print(
                f"{'':12}saving, estimated: {_joules(saving['low_j'])}–"
                f"{_joules(saving['high_j'])}{share}"
            )
            console.print(f"{'':12}[dim]{escape(saving['method'])}[/]")
    for line in result["summary"]:
        console.print(f"[bold]{line}[/]")
    for note in result["notes"]:
        console.print(f"[dim]note: {escape(note)}[/]")
    for missing in result["missing"]:
        console.print(f"[dim]not recorded in some runs: {escape(missing)}[/]")


def _g(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.3g}"


def render_hosting(result: dict[str, Any], console: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    unit = result["unit"]
    table = Table(title=f"Cloud or on-premise · gCO2e per {unit}", title_justify="left")
    for column in ("site", "zone", "PUE", "g/kWh", "kWh/u", "energy g", "idle g", "made g",
                   "total g", "vs own"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("site", "zone") else "right")
    for site in result["sites"]:
        versus = f"{site['vs_onprem']:+.0%}" if site["vs_onprem"] is not None else "—"
        table.add_row(
            site["label"],
            (site["zone"] or {}).get("value") or "?",
            _g((site["pue"] or {}).get("value")),
            _g(site["intensity_g_per_kwh"]),
            _g(site["energy_kwh_per_unit"]),
            _g(site["operational_g_per_unit"]),
            _g(site["idle_g_per_unit"]) if site["idle_g_per_unit"] is not None else "—",
            _g(site["embodied_g_per_unit"]),
            _g(site["total_g_per_unit"]),
            versus,
        )
    console.print(table)
    console.print("[bold]Inputs and sources[/]")
    for site in result["sites"]:
        for key in ("zone", "pue"):
            if site[key]:
                console.print(
                    f"  {site['label']} {key}: {site[key]['value']} — {escape(site[key]['source'])}"
                )
        if site["intensity_basis"]:
            console.print(f"  {site['label']} intensity: {escape(site['intensity_basis'])}")
    for key in ("embodied_kg", "lifetime_years", "idle_power_w", "hours_per_day"):
        value = result.get(key)
        if value:
            console.print(f"  {key}: {value['value']:.4g} — {escape(value['source'])}")
    console.print(
        f"  IT energy: {_joules(result['it_energy_j'])} over {result['compute_hours']:.2f} h of "
        f"compute in {len(result['runs'])} recorded run(s) (same hardware assumed at every site)"
    )
    console.print(f"  cloud regions: {result['cloud_source']}")
    console.print("[bold]Reasoning[/]")
    for line in result["reasoning"]:
        console.print(f"  {escape(line)}")
    console.print(f"[dim]not assessed: {', '.join(result['not_assessed'])}[/]")
