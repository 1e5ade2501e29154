"""Text rendering of `vatio runs diff`."""

from __future__ import annotations

from typing import Any

import typer


def _pct(delta: dict[str, Any]) -> str:
    return "" if delta.get("pct") is None else f" ({delta['pct']:+.1f}%)"


def print_diff(result: dict[str, Any]) -> None:
    a, b = result["runs"]
    typer.echo(f"run A {a}  →  run B {b}")
    from vatio.quantities import carbon, energy

    def seconds(value: float) -> str:
        return f"{value:.3g} s"

    for key, label, fmt in (
        ("energy_j", "energy", energy),
        ("process_energy_j", "job energy", energy),
        ("co2e_g", "carbon", carbon),
        ("duration_s", "duration", seconds),
    ):
        delta = result[key]
        if delta["a"] is None and delta["b"] is None:
            continue
        fa = "—" if delta["a"] is None else fmt(delta["a"])
        fb = "—" if delta["b"] is None else fmt(delta["b"])
        typer.echo(f"  {label:<11} {fa} → {fb}{_pct(delta)}")
    if result["methods"][0] != result["methods"][1]:
        typer.echo(f"  methods differ: {result['methods'][0]} vs {result['methods'][1]}")
    packages = result["packages"]
    if any(packages.values()):
        typer.echo("packages:")
        for name, version in packages["added"]:
            typer.echo(f"  + {name} {version}")
        for name, version in packages["removed"]:
            typer.echo(f"  - {name} {version}")
        for name, old, new in packages["changed"]:
            typer.echo(f"  ~ {name} {old} → {new}")
    else:
        typer.echo("packages: identical")
    for section in ("hardware", "profile", "git", "lockfile"):
        changes = result[section]
        if not changes:
            typer.echo(f"{section}: identical")
            continue
        typer.echo(f"{section}:")
        for key, (old, new) in changes.items():
            typer.echo(f"  ~ {key}: {old} → {new}")
