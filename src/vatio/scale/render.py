"""Showing a study: the table, the advice in words, failures with their error tail, a plot.

Every energy figure printed carries its range and, in the caption, its method.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.3g}"


def _num(value: float | None, fmt: str = "{:.2f}") -> str:
    return "—" if value is None else fmt.format(value)


UNITS = (("kJ", 1e3), ("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9))


def energy_unit(rows: list[dict[str, Any]]) -> tuple[str, float]:
    """One unit for a whole column, chosen from its smallest figure."""
    values = [r["energy_per_sample_j"] for r in rows if r.get("energy_per_sample_j")]
    smallest = min(values) if values else 1.0
    return next(((u, f) for u, f in UNITS if smallest >= f), UNITS[-1])


def _energy_cell(row: dict[str, Any], factor: float) -> str:
    if row.get("energy_per_sample_j") is None:
        return "—"
    central, low, high = (row[f"energy_per_sample{k}_j"] / factor for k in ("", "_low", "_high"))
    return f"{central:.3g} ({low:.3g}–{high:.3g})"


def fmt_bytes(count: float | None, suffix: str = "") -> str:
    if count is None:
        return "—"
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= factor:
            return f"{count / factor:.3g} {unit}{suffix}"
    return f"{count:.0f} B{suffix}"


def render_study(study: dict[str, Any], console: Any) -> None:
    """The comparison table, where the time goes, failures, notes and the advice."""
    from rich import box
    from rich.table import Table

    rows = [r for r in study["configs"] if not r["config"]["no_sync"]]
    batch = study["mode"] == "batch"
    methods = sorted({r["method"] for r in rows if r.get("method")})
    unit, factor = energy_unit(rows)
    caption = [
        f"Energy: {', '.join(methods) or 'not measured'}; central (low–high) over the measured "
        "steps; launch and imports apart (launch J)."
    ]
    if not batch:
        caption.append(study["efficiency_definition"])
    table = Table(
        title=f"Scaling study {study['study_id']}",
        caption="\n".join(caption),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        caption_justify="left",
    )
    if batch:
        headers = ["Batch", "samples/s", "p50 ms", "p95 ms", f"{unit}/sample", "launch J"]
    else:
        headers = [
            "Configuration",
            "samples/s",
            "speed-up",
            "E",
            f"{unit}/sample",
            "energy ×",
            "launch J",
        ]
    for index, name in enumerate(headers):
        table.add_column(name, justify="left" if index == 0 else "right")
    for row in rows:
        if row.get("status") != "completed":
            table.add_row(row["config"]["label"], f"[red]{_failure(row)}[/]")
            continue
        cells = [_num(row.get("throughput"), "{:,.0f}")]
        if batch:
            cells += [_ms(row.get("p50_latency_s")), _ms(row.get("p95_latency_s"))]
            cells.append(_energy_cell(row, factor))
        else:
            ratio = _num(row.get("energy_ratio"))
            ratio = f"[yellow]{ratio} ▲[/]" if row.get("inefficient") else ratio
            cells += [_num(row.get("speedup")), _num(row.get("efficiency"))]
            cells += [_energy_cell(row, factor), ratio]
        cells.append(_num(row.get("launch_overhead_j"), "{:.3g}"))
        table.add_row(row["config"]["label"], *cells)
    console.print(table)
    if not batch and any(r.get("step_s") and r["status"] == "completed" for r in study["configs"]):
        render_time_split(study["configs"], console)
    render_failures(rows, console)
    render_notes(study, console)
    for line in study["advice"]["lines"]:
        console.print(f"  • {line}")


def _failure(row: dict[str, Any]) -> str:
    rank = row.get("failed_rank")
    text = f"{row.get('status')}: {row.get('error') or 'no detail'}"
    return text + (f" (rank {rank})" if rank is not None else "")


def render_time_split(rows: list[dict[str, Any]], console: Any) -> None:
    """Per rank, median step: compute vs all-reduce, the no_sync check, traffic, resources."""
    from rich import box
    from rich.table import Table

    table = Table(
        title="Where a step goes (per rank, mean step, ms)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        caption_justify="left",
        caption="compute = step − all-reduce (hook: launch to completion); no_sync = "
        "a step with gradient sync off; bytes = gradients all-reduced per step.",
    )
    headers = [
        "Configuration",
        "step",
        "compute",
        "all-red.",
        "no_sync",
        "bytes",
        "rate",
        "cores",
        "RSS",
    ]
    for index, name in enumerate(headers):
        table.add_column(name, justify="left" if index == 0 else "right")
    for row in rows:
        if row.get("status") != "completed" or not row.get("step_s"):
            continue
        rss = row.get("max_rss_bytes_per_rank")
        table.add_row(
            row["config"]["label"],
            _ms(row.get("step_s")),
            _ms(row.get("compute_s")),
            _ms(row.get("comm_s")),
            _ms(row.get("no_sync_step_s")),
            fmt_bytes(row.get("bytes_per_step")),
            fmt_bytes(row.get("bandwidth_bps"), "/s"),
            _num(row.get("cpu_cores_per_rank")),
            fmt_bytes(rss),
        )
    console.print(table)


def render_failures(rows: list[dict[str, Any]], console: Any) -> None:
    from rich.markup import escape

    for row in rows:
        if row.get("status") in ("completed", "interrupted") or not row.get("error_tail"):
            continue
        rank = row.get("failed_rank")
        who = f"rank {rank}" if rank is not None else "the job"
        console.print(f"[red]{row['config']['label']}[/]: {who} failed; the end of its output:")
        for line in row["error_tail"]:
            console.print(f"    {escape(line)}", highlight=False)
        if row.get("logs"):
            console.print(f"    (full logs in {row['logs']})")


def render_notes(study: dict[str, Any], console: Any) -> None:
    for warning in study.get("warnings", []):
        console.print(f"[yellow]warning[/]: {warning}")
    silent = []
    for row in study["configs"]:
        if row.get("merge_note"):
            console.print(f"note: {row['config']['label']}: {row['merge_note']}")
        if row.get("status") == "completed" and row.get("samples") is None:
            silent.append(row["config"]["label"])
        elif (
            row.get("status") == "completed"
            and row.get("comm_s") is None
            and row["config"]["mode"] == "workers"
            and row["config"]["world_size"] > 1
            and not row["config"]["no_sync"]
        ):
            console.print(
                f"note: {row['config']['label']}: all-reduce not timed; wrap the model with "
                "vatio.scale.instrument(model) for the compute/communication split."
            )
    if silent:
        console.print(
            f"note: no steps reported ({', '.join(silent)}): speed and energy × compare whole "
            "runs, launch included; call vatio.scale.step(samples=n) in the training loop for "
            "throughput and energy per sample."
        )
    carbon = [r for r in study["configs"] if r.get("co2e_g") is not None]
    if carbon:
        parts = ", ".join(f"{r['config']['label']} {r['co2e_g']:.3g}" for r in carbon)
        console.print(f"note: gCO2e per whole run (launch included): {parts}.")
    if study.get("store_error"):
        console.print(
            f"[yellow]warning[/]: the study record was not stored: {study['store_error']}"
        )


def plot_study(study: dict[str, Any], path: Path) -> None:
    """Speed (or throughput) and energy per sample against resources (or batch size)."""
    from vatio.plotting import pyplot, save_png

    plt = pyplot()

    rows = [
        r for r in study["configs"] if r.get("status") == "completed" and not r["config"]["no_sync"]
    ]
    batch = study["mode"] == "batch"
    xs = [r["config"]["batch_size"] if batch else r["config"]["resources"] for r in rows]
    labels = [r["config"]["label"] for r in rows]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    if batch:
        left.plot(xs, [r.get("throughput") or 0 for r in rows], "o-")
        left.set_ylabel("samples/s")
        for axis in (left, right):
            axis.set_xscale("log", base=2)
            axis.set_xlabel("batch size")
    else:
        left.plot(xs, [r.get("speedup") or 0 for r in rows], "o-", label="measured")
        left.plot(xs, [x / xs[0] for x in xs] if xs else [], "--", label="linear")
        left.set_ylabel("speed-up")
        left.legend()
        for axis in (left, right):
            axis.set_xticks(xs, labels, rotation=20, fontsize=8)
    central = [(r.get("energy_per_sample_j") or 0) * 1e3 for r in rows]
    low = [
        c - (r.get("energy_per_sample_low_j") or 0) * 1e3
        for c, r in zip(central, rows, strict=True)
    ]
    high = [
        (r.get("energy_per_sample_high_j") or 0) * 1e3 - c
        for c, r in zip(central, rows, strict=True)
    ]
    right.errorbar(xs, central, yerr=[low, high], fmt="o-", capsize=4)
    methods = sorted({r["method"] for r in rows if r.get("method")})
    right.set_ylabel(f"mJ per sample ({', '.join(methods)})", fontsize=8)
    figure.suptitle(f"vatio scale — study {study['study_id']}")
    figure.tight_layout()
    save_png(figure, path)
