"""The study as rich tables for people, and an optional matplotlib plot (imported lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vatio.optimize.study import Study


def fmt_size(n: int | None) -> str:
    if n is None:
        return "—"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024  # type: ignore[assignment]
    return "—"


def fmt_num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def fmt_range(low: float | None, high: float | None) -> str:
    return "—" if low is None or high is None else f"{low:.3g}–{high:.3g}"


def fmt_rate(value: float | None) -> str:
    if value is None:
        return "—"
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def energy_caption(study: Study) -> str:
    basis = (
        "share attributed to this process by CPU time"
        if study.energy_basis == "process"
        else "whole machine"
    )
    estimated = "estimated:" in study.method and "measured:" not in study.method
    how = "estimated from CPU utilisation x TDP, not measured; " if estimated else ""
    return (
        f"Energy: {study.method} ({how}{basis}); J per 1,000 inferences, median of "
        f"{study.config.repeats} repeat{'s' if study.config.repeats != 1 else ''}; "
        "range = low-high of the energy model."
    )


def _table(title: str, columns: list[str], caption: str | None = None) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, padding=(0, 1))
    for i, column in enumerate(columns):
        left = i == 0 or not column
        table.add_column(column, justify="left" if left else "right", no_wrap=i == 0)
    return table


def render(study: Study, console: Any, written: list[Path] | None = None) -> None:
    """Variants at the reference batch, then every batch size, then front and recommendation."""
    b = study.batch
    metric = "acc %" if study.metric_name == "accuracy" else "metric"
    columns = ["variant", metric, "Δ pts", "size", f"J/1k @{b}", "range"]
    table = _table(f"vatio optimize: variants at batch {b}", columns)
    footnotes: list[str] = []
    for row in study.rows:
        if not row.ok:
            table.add_row(f"{row.name} [red]{row.status}[/]", *["—"] * 5)
            footnotes.append(f"{row.name} {row.status}: {row.reason}")
            continue
        stats = row.batches.get(b)
        d = stats.to_dict() if stats is not None else {}
        if stats is not None and stats.error:
            footnotes.append(f"{row.name} failed at batch {b}: {stats.error}")
        footnotes.extend(f"{row.name}: {note}" for note in row.notes)
        low, high = d.get("energy_per_1k_low_j"), d.get("energy_per_1k_high_j")
        scale = 100 if study.metric_name == "accuracy" else 1
        table.add_row(
            f"{row.name} {_marks(study, row)}".rstrip(),
            "—" if row.metric is None else f"{row.metric * scale:.4g}",
            "—" if row.delta_pts is None else f"{0.0 - row.delta_pts:+.2f}",
            fmt_size(row.artefact.size_bytes if row.artefact else None),
            fmt_num(d.get("energy_per_1k_j")),
            fmt_range(low, high),
        )
    console.print(table)
    console.print(
        "★ recommended  • on the Pareto front  = baseline. " + energy_caption(study),
        highlight=False,
    )
    for line in footnotes:
        console.print(f"  {line}", highlight=False)
    console.print(batch_table(study))
    render_summary(study, console, written)


def _marks(study: Study, row: Any) -> str:
    marks = "★" if row.name == study.recommendation.name else ""
    marks += "•" if row.on_front else ""
    return marks + ("=" if row.name == study.baseline else "")


def batch_table(study: Study) -> Any:
    """One line per variant and batch size: latency, throughput, energy."""
    columns = ["variant", "batch", "p50 ms", "p95 ms", "inf/s", "J/1k", "range"]
    table = _table("Every batch size (J per 1,000 inferences, median of repeats)", columns)
    sizes = study.config.batch_sizes
    for row in study.rows:
        if not row.ok:
            continue
        for i, size in enumerate(sizes):
            stats = row.batches.get(size)
            name = row.name if i == 0 else ""
            last = i == len(sizes) - 1
            if stats is None or not stats.ok:
                error = stats.error if stats is not None and stats.error else "not measured"
                table.add_row(name, str(size), f"failed: {error}", end_section=last)
                continue
            d = stats.to_dict()
            table.add_row(
                name,
                str(size),
                fmt_num(d["p50_ms"]),
                fmt_num(d["p95_ms"]),
                fmt_rate(d["throughput_per_s"]),
                fmt_num(d["energy_per_1k_j"]),
                fmt_range(d["energy_per_1k_low_j"], d["energy_per_1k_high_j"]),
                end_section=last,
            )
    return table


def render_summary(study: Study, console: Any, written: list[Path] | None) -> None:
    rec = study.recommendation
    front = ", ".join(r.name for r in study.rows if r.on_front) or "—"
    console.print(f"Pareto front ({study.metric_name} vs energy at batch {study.batch}): {front}")
    console.print(f"[bold]Recommended: {rec.name}[/] — {rec.reason}.", highlight=False)
    if written:
        console.print(f"Artefacts with provenance.json written under {written[0].parent.parent}/")


def plot(study: Study, path: Path) -> Path:
    """Accuracy against energy per 1,000 inferences, front joined, recommendation starred."""
    from vatio.plotting import pyplot, save_png

    plt = pyplot()
    b = study.batch
    rows = [r for r in study.rows if r.ok and r.energy(b) is not None and r.metric is not None]
    fig, ax = plt.subplots(figsize=(9, 4.8))
    scale = 100 if study.metric_name == "accuracy" else 1
    markers = "osD^v<>pXhP"
    for i, row in enumerate(rows):
        stats = row.batches[b].to_dict()
        x, y = stats["energy_per_1k_j"], row.metric * scale
        err = [[x - stats["energy_per_1k_low_j"]], [stats["energy_per_1k_high_j"] - x]]
        star = row.name == study.recommendation.name
        label = f"{row.name} (recommended)" if star else row.name
        ax.errorbar(x, y, xerr=err, fmt="*" if star else markers[i % len(markers)],
                    ms=14 if star else 6, capsize=3, label=label, alpha=0.85)  # fmt: skip
    front = sorted((r for r in rows if r.on_front), key=lambda r: r.energy(b) or 0.0)
    ax.plot([r.energy(b) for r in front], [(r.metric or 0) * scale for r in front], "k--", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel(f"J per 1,000 inferences at batch {b} ({study.method})")
    ax.set_ylabel("accuracy (%)" if scale == 100 else study.metric_name)
    ax.set_title("vatio optimize: accuracy vs energy (dashed: Pareto front)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
    save_png(fig, path)
    return path


class Stages:
    """Adapts the study's progress calls to a rich progress bar (or plain lines off a TTY)."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.console = console
        self.live = console.is_terminal
        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            console=console, transient=True, disable=not self.live,
        )  # fmt: skip
        self.task: Any = None
        self.label = ""

    def stage(self, label: str, total: int) -> None:
        self.label = label
        if self.task is not None:
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(label, total=total)
        if not self.live:
            self.console.print(f"vatio optimize: {label} ({total} steps)")

    def advance(self, label: str | None = None) -> None:
        if label:
            self.bar.update(self.task, description=f"{self.label}: {label}")
        self.bar.advance(self.task)

    def working(self, label: str) -> None:
        """The step under way (the count moves when it is done)."""
        self.bar.update(self.task, description=f"{self.label}: {label}")
        if not self.live:
            self.console.print(f"vatio optimize: {self.label}: {label}")


def progress_bar(console: Any) -> Any:
    import contextlib

    @contextlib.contextmanager
    def manager() -> Any:
        stages = Stages(console)
        with stages.bar:
            yield stages

    return manager()
