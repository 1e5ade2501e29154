"""`vatio zones`: the grid zones vatio has intensity data for, and where each value is from."""

from __future__ import annotations

import typer

RULE = (
    "Carbon uses hourly data where a zone has it (other years: the same hour of the zone's "
    "latest year), else the yearly figure with the most recent data year. Alpha-3 codes "
    "(ESP, USA) are aliases; cloud regions are written provider:region (gcp:us-west2)."
)


def register(app: typer.Typer) -> None:
    app.command("zones")(zones)


def zones(
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
    hourly_only: bool = typer.Option(False, "--hourly", help="Only zones with hourly data."),
) -> None:
    """Grid zones: hourly data (Electricity Maps) or a yearly average, and its source."""
    from vatio.carbon.zones import HOURLY_ATTRIBUTION, known_zone_codes, resolve_zone

    found = [resolve_zone(code) for code in known_zone_codes()]
    if hourly_only:
        found = [z for z in found if z.hourly_years]
    if json_output:
        from vatio.cli.output import print_json

        print_json([z.to_dict() for z in found])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(found)} zones", title_justify="left", caption=RULE)
    table.add_column("zone", no_wrap=True)
    table.add_column("alias")
    table.add_column("name")
    table.add_column("carbon uses")
    table.add_column("gCO2e/kWh", justify="right")
    table.add_column("source of the value")
    for zone in found:
        if zone.hourly_years:
            years = ", ".join(map(str, zone.hourly_years))
            uses, value, source = f"hourly {years}", "hourly", HOURLY_ATTRIBUTION.split(" (")[0]
        else:
            assert zone.yearly is not None
            year = f" {zone.yearly.year}" if zone.yearly.year else ""
            uses, value = "yearly", f"{zone.yearly.gco2e_per_kwh:.4g}"
            source = f"{zone.yearly.source}{year}"
        table.add_row(zone.code, ", ".join(zone.aliases), zone.name, uses, value, source)
    Console().print(table)
