"""Options shared by commands that run a tracker."""

from __future__ import annotations

from typing import Any

import typer


class ProfileOptions:
    """Flags that override the profile; None means "not given"."""

    zone = typer.Option(None, "--zone", "-z", help="Grid zone for carbon, e.g. ES, FR, DE.")
    name = typer.Option(None, "--name", "-n", help="A name for the run.")
    store = typer.Option(None, "--store", help="Run store: SQLAlchemy URL or SQLite path.")
    interval = typer.Option(None, "--interval", help="Sampling interval, e.g. 1s or 100ms.")
    idle_baseline = typer.Option(
        None, "--idle-baseline", help="Measure idle power first for this long (e.g. 10s)."
    )
    pue = typer.Option(None, "--pue", help="Power usage effectiveness of the site (>= 1).")

    @staticmethod
    def overrides(
        zone: str | None,
        name: str | None,
        store: str | None,
        interval: str | None,
        idle_baseline: str | None,
        pue: float | None,
    ) -> dict[str, Any]:
        return {
            "zone": zone,
            "name": name,
            "store": store,
            "interval": interval,
            "idle_baseline": idle_baseline,
            "pue": pue,
        }
