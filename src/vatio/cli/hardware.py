"""`vatio hardware`: which sensors vatio found and why others are unusable."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("hardware")(hardware)


def hardware(
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
    powercap_root: str = typer.Option(
        "/sys/class/powercap", "--powercap-root", help="Where to look for RAPL (for testing)."
    ),
) -> None:
    """List energy sensors: measured counters, estimates, and what could not be used."""
    from dataclasses import asdict

    from vatio.config import load_profile
    from vatio.devices.discovery import discover

    profile, _ = load_profile()
    found = discover(
        powercap_root=powercap_root,
        cpu_tdp_w=profile.cpu_tdp_w,
        memory_w_per_gb=profile.memory_w_per_gb,
    )
    if json_output:
        from vatio.cli.output import print_json

        print_json(
            {
                "sensors": [s.describe() for s in found.sensors],
                "sources": [asdict(s) for s in found.statuses],
            }
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Energy sources on this machine", title_justify="left")
    table.add_column("source")
    table.add_column("used")
    table.add_column("method")
    table.add_column("details")
    for status in found.statuses:
        detail = status.detail + (f"\nnote: {status.hint}" if status.hint else "")
        table.add_row(
            status.name, "yes" if status.available else "no", status.method or "—", detail
        )
    console = Console()
    console.print(table)
    estimated = [s.name for s in found.sensors if s.is_estimate]
    if estimated:
        console.print(
            "Estimated (not measured): "
            + ", ".join(estimated)
            + ". Figures carry a low/high range."
        )
