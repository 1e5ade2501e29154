"""`vatio zones`: the grid zones vatio has carbon-intensity data for."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("zones")(zones)


def zones(
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
    hourly_only: bool = typer.Option(False, "--hourly", help="Only zones with hourly data."),
) -> None:
    """Zones with bundled hourly data (Electricity Maps) and yearly averages."""
    from vatio.carbon.intensity import known_zone_codes, resolve_zone

    zones = [resolve_zone(code) for code in known_zone_codes()]
    if hourly_only:
        zones = [z for z in zones if z.hourly_years]
    if json_output:
        from dataclasses import asdict

        from vatio.cli.output import print_json

        print_json([asdict(z) for z in zones])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(zones)} zones", title_justify="left")
    for column in ("zone", "name", "hourly years", "yearly gCO2e/kWh", "yearly source"):
        table.add_column(column)
    for zone in zones:
        table.add_row(
            zone.code,
            zone.name,
            ", ".join(map(str, zone.hourly_years)) or "—",
            f"{zone.yearly_gco2e_per_kwh:g}" if zone.yearly_gco2e_per_kwh is not None else "—",
            zone.yearly_source or "—",
        )
    Console().print(table)
