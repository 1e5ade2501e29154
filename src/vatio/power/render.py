"""Show knobs and sweeps: rich tables for people, a PNG of energy against time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vatio.power.common import KnobStatus, format_value
from vatio.quantities import energy as _energy


def _time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


def _pct(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "—"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


def render_show(
    statuses: list[KnobStatus], notes: list[str], console: Any, pending: list[str]
) -> None:
    from rich.table import Table

    table = Table(title="Power knobs on this machine", title_justify="left")
    for column in ("knob", "current", "allowed", "read", "write"):
        table.add_column(column)
    for s in statuses:
        allowed = s.allowed
        if "choices" in allowed:
            shown = ", ".join(allowed["choices"])
        elif "min" in allowed and "max" in allowed:
            low, high = format_value(allowed["min"], s.unit), format_value(allowed["max"], s.unit)
            if s.unit and s.unit != "kHz":
                low = low.removesuffix(f" {s.unit}")
            shown = f"{low} – {high}"
        else:
            shown = ""
        current = format_value(s.value, s.unit) if s.readable else "—"
        if s.readable and s.value is None:
            current = "unset" if s.scope == "job" else "unlocked"
        table.add_row(
            s.label,
            current,
            shown,
            "yes" if s.readable else "[red]no[/]",
            "yes" if s.writable else "[red]no[/]",
        )
    console.print(table)
    for s in statuses:
        if s.reason:
            console.print(f"[yellow]{s.reason}[/]")
            if s.fix:
                console.print(f"  fix: {s.fix}")
    for s in statuses:
        for note in s.notes:
            console.print(f"[dim]{s.label}: {note}[/]")
    for note in notes:
        console.print(f"[dim]note: {note}[/]")
    for line in pending:
        console.print(f"[yellow]changed by vatio[/]: {line}")


def render_sweep(section: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    unit = section["unit"]
    title = (
        f"Power sweep · energy per {unit} ({section['scope']} devices, "
        f"{section['attribution']}) · median of {section['repeat']}"
    )
    table = Table(title=title, title_justify="left")
    for column in (
        "setting",
        f"energy/{unit}",
        f"time/{unit}",
        "J/sample",
        "power",
        "slowdown",
        "saving",
        "",
    ):
        table.add_column(column, justify="left" if column in ("setting", "") else "right")
    chosen = section["choice"]["index"]
    for index, row in enumerate(section["settings"]):
        marks = []
        if index == chosen:
            marks.append("[bold green]chosen[/]")
        if row["pareto"]:
            marks.append("pareto")
        if row["missing"]:
            marks.append(f"[red]{row['missing']}[/]")
        elif not row["feasible"]:
            marks.append("too slow")
        table.add_row(
            row["label"],
            _energy(row["energy_per_unit_j"]),
            _time(row["time_per_unit_s"]),
            _energy(row["energy_per_sample_j"]) if row["energy_per_sample_j"] else "—",
            f"{row['power_w']:.1f} W" if row["power_w"] else "—",
            _pct(row["slowdown"]),
            _pct(row["saving"]),
            " ".join(marks),
        )
    console.print(table)
    choice = section["choice"]
    method = section.get("method") or ""
    if choice["index"] is None:
        console.print(f"[yellow]No choice[/]: {choice['reason']}.")
    elif choice["index"] == 0:
        console.print(f"[bold]Keep the default[/]: it has the {choice['reason']}.")
    else:
        saving, slowdown = _pct(choice["saving"], False), _pct(choice["slowdown"])
        console.print(
            f"[bold green]Chosen[/]: {choice['label']} — {saving} less energy per {unit}, "
            f"{slowdown} time ({choice['reason']})."
        )
    if method:
        console.print(f"[dim]energy: {method}[/]")
    for note in section.get("notes") or []:
        console.print(f"[yellow]note[/]: {note}")
    for line in section.get("restored") or []:
        console.print(f"[dim]restored: {line}[/]")


def plot_sweep(section: dict[str, Any], path: Path) -> None:
    from vatio.plotting import pyplot, save_png

    plt = pyplot()
    figure, axis = plt.subplots(figsize=(7, 4.5))
    rows = [r for r in section["settings"] if r["energy_per_unit_j"] is not None]
    unit = section["unit"]
    xs = [r["time_per_unit_s"] for r in rows]
    ys = [r["energy_per_unit_j"] for r in rows]
    axis.scatter(xs, ys, color="tab:blue")
    for row, x, y in zip(rows, xs, ys, strict=True):
        axis.annotate(row["label"], (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    front = sorted((r["time_per_unit_s"], r["energy_per_unit_j"]) for r in rows if r["pareto"])
    if len(front) > 1:
        axis.plot(*zip(*front, strict=True), color="tab:green", linewidth=1, label="Pareto front")
    chosen = section["choice"]["index"]
    if chosen is not None:
        row = section["settings"][chosen]
        axis.scatter(
            [row["time_per_unit_s"]],
            [row["energy_per_unit_j"]],
            s=160,
            facecolors="none",
            edgecolors="tab:red",
            label="chosen",
        )
    base = section["settings"][0]
    if base["time_per_unit_s"] and section.get("max_slowdown") is not None:
        axis.axvline(
            base["time_per_unit_s"] * (1 + section["max_slowdown"]),
            color="grey",
            linestyle="--",
            linewidth=1,
            label="slowdown bound",
        )
    axis.set_xlabel(f"time per {unit} (s)")
    axis.set_ylabel(f"energy per {unit} (J, {section['scope']} devices)")
    axis.set_title("vatio power sweep")
    axis.legend(fontsize=8)
    figure.tight_layout()
    save_png(figure, path)
