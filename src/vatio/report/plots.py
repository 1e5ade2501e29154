"""Plots as inline SVG, drawn with matplotlib's SVG backend (imported only here, lazily).

Each SVG is made safe to inline next to others: no XML prolog, ids prefixed so
clip paths and markers of two plots never collide, text kept as text (no fonts
embedded, nothing fetched), and a fixed hash salt so the same run gives the
same bytes.
"""

from __future__ import annotations

import io
import re
from typing import Any

COLOURS = {"cpu": "#e07b39", "gpu": "#3a923a", "memory": "#3b75af", "dram": "#7b4fa0"}
FALLBACK = ("#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
ERROR_STYLE = {"ecolor": "#333", "capsize": 3, "lw": 1}
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^")]+)')


def _colour(device: str, index: int) -> str:
    return COLOURS.get(device.split(":", 1)[0], FALLBACK[index % len(FALLBACK)])


def energy_scale(max_kwh: float) -> tuple[float, str]:
    """Factor from kWh and the unit that keeps plotted numbers readable."""
    if max_kwh >= 1:
        return 1.0, "kWh"
    if max_kwh >= 1e-3:
        return 1e3, "Wh"
    return 3.6e6, "J"


def _svg(fig: Any, key: str, title: str) -> str:
    """The figure as an inline <svg> element with ids unique to `key`."""
    import matplotlib

    buffer = io.StringIO()
    style = {"svg.fonttype": "none", "svg.hashsalt": key, "font.size": 8.5}
    with matplotlib.rc_context(style):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.DOTALL)
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", key)
    text = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = _REF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)
    label = title.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    return text.replace("<svg", f'<svg role="img" aria-label="{label}" class="plot"', 1)


def _figure(width: float = 10.0, height: float = 3.6):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    fig.set_layout_engine("constrained")
    return fig, fig.add_subplot()


def power_plot(run: dict[str, Any]) -> str | None:
    """Power over time, stacked by device."""
    series = run.get("power_series")
    if not series or not series["t0_s"]:
        return None
    fig, ax = _figure()
    x = [*series["t0_s"], series["t1_s"][-1]]
    names = list(series["power_w"])
    ys = [[*series["power_w"][n], series["power_w"][n][-1]] for n in names]
    methods = {d["name"]: d["method"] for d in run.get("devices") or []}
    labels = [f"{n} ({methods.get(n, '?')})" for n in names]
    colours = [_colour(n, i) for i, n in enumerate(names)]
    ax.stackplot(x, *ys, labels=labels, colors=colours, step="post", alpha=0.85, lw=0)
    ax.set_xlabel("seconds since the start of the run")
    ax.set_ylabel("power (W)")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, frameon=False)
    ax.grid(alpha=0.3)
    return _svg(fig, f"power-{run['id']}", "Power over time by device (stacked)")


def _scaled_with_errors(
    figures: list[dict[str, Any]],
) -> tuple[list[float], list[list[float]], str]:
    """Bar lengths, [below, above] error lengths and the unit, for energy figures."""
    factor, unit = energy_scale(max([f["high"] or f["value"] or 0.0 for f in figures] or [0.0]))
    values, below, above = [], [], []
    for fig in figures:
        value = (fig["value"] or 0.0) * factor
        values.append(value)
        below.append(value - fig["low"] * factor if fig["low"] is not None else 0.0)
        above.append(fig["high"] * factor - value if fig["high"] is not None else 0.0)
    return values, [[max(e, 0.0) for e in below], [max(e, 0.0) for e in above]], unit


def _bars(
    labels: list[str], figures: list[dict[str, Any]], colours: list[str], key: str, title: str
) -> str:
    values, errors, unit = _scaled_with_errors(figures)
    fig, ax = _figure(height=max(1.8, 0.3 * len(labels) + 1.0))
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, values, color=colours, xerr=errors, error_kw=ERROR_STYLE)
    ax.set_yticks(positions, labels)
    ax.set_xlabel(f"energy ({unit}); error bars show the low–high range")
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig, key, title)


def device_energy_plot(run: dict[str, Any]) -> str | None:
    """Energy by device, with its range."""
    devices = run.get("devices") or []
    if not devices:
        return None
    labels = [f"{d['name']} [{d['method']}]" for d in devices]
    colours = [_colour(d["name"], i) for i, d in enumerate(devices)]
    return _bars(
        labels, [d["energy"] for d in devices], colours, f"devices-{run['id']}", "Energy by device"
    )


def phase_energy_plot(run: dict[str, Any], limit: int = 60) -> str | None:
    """Energy by phase (the first `limit` phases)."""
    phases = (run.get("phases") or [])[:limit]
    if not phases:
        return None
    labels = [str(p["name"]) for p in phases]
    colours = ["#3b75af"] * len(phases)
    return _bars(
        labels, [p["energy"] for p in phases], colours, f"phases-{run['id']}", "Energy by phase"
    )


def intensity_plot(run: dict[str, Any]) -> str | None:
    """Grid intensity hour by hour around the run, the run's span shaded."""
    grid = run.get("grid")
    if not grid:
        return None
    from datetime import UTC, datetime

    fig, ax = _figure(height=2.8)
    hours = [*grid["hour_s"], grid["hour_s"][-1] + 3600.0]
    times = [datetime.fromtimestamp(t, UTC) for t in hours]
    values = [*grid["intensity_g_per_kwh"], grid["intensity_g_per_kwh"][-1]]
    ax.step(times, values, where="post", color="#555", lw=1.5)
    start = datetime.fromtimestamp(grid["run_start_s"], UTC)
    end = datetime.fromtimestamp(max(grid["run_end_s"], grid["run_start_s"] + 60), UTC)
    ax.axvspan(start, end, color="#e07b39", alpha=0.35, label="this run")
    ax.set_ylabel("gCO2e/kWh")
    ax.set_xlabel(f"UTC, zone {grid['zone']} ({', '.join(grid['basis'])})")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", frameon=False)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _svg(fig, f"grid-{run['id']}", "Grid carbon intensity around the run")


def comparison_plot(report: dict[str, Any]) -> str | None:
    """Energy and carbon of each run side by side, with their ranges."""
    comparison = report.get("comparison")
    if not comparison:
        return None
    rows = comparison["rows"]
    labels = [r["id"] + (f"\n{r['name']}" if r.get("name") else "") for r in rows]
    fig, ax = _figure(height=max(1.8, 0.45 * len(rows) + 1.0))
    values, errors, unit = _scaled_with_errors([r["energy"] for r in rows])
    positions = list(range(len(rows)))[::-1]
    ax.barh(positions, values, xerr=errors, color="#3b75af", error_kw=ERROR_STYLE)
    ax.set_yticks(positions, labels)
    ax.set_xlabel(f"machine energy ({unit}); error bars show the low–high range")
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig, "comparison", "Energy of the compared runs")


def fl_client_energy_plot(run: dict[str, Any]) -> str | None:
    """Energy per federated client (process tree), with its range."""
    chart = ((run.get("federated") or {}).get("charts") or [None])[0]
    if not chart or not chart.get("labels"):
        return None
    figures = [
        {"value": _kwh(v), "low": _kwh(lo), "high": _kwh(hi)}
        for v, lo, hi in zip(chart["values"], chart["low"], chart["high"], strict=True)
    ]
    colours = ["#3b75af"] * len(figures)
    return _bars(chart["labels"], figures, colours, f"fl-clients-{run['id']}", chart["title"])


def fl_rounds_plot(run: dict[str, Any]) -> str | None:
    """Accuracy (left axis) and energy (right axis) per federated round."""
    charts = (run.get("federated") or {}).get("charts") or []
    chart = charts[1] if len(charts) > 1 else None
    if not chart or not chart.get("x"):
        return None
    fig, ax = _figure()
    accuracy = [None if a is None else a * 100 for a in chart["series"]["accuracy"]]
    ax.plot(chart["x"], accuracy, marker="o", color="#3b75af", label="accuracy (%)")
    ax.set_xlabel("round")
    ax.set_ylabel("accuracy (%)")
    other = ax.twinx()
    energy = [0.0 if e is None else e for e in chart["series"]["energy_j"]]
    other.bar(chart["x"], energy, alpha=0.3, color="#e07b39", label="energy (J)")
    other.set_ylabel("energy (J)")
    ax.grid(alpha=0.3)
    return _svg(fig, f"fl-rounds-{run['id']}", chart["title"])


def _kwh(joules: float | None) -> float | None:
    return None if joules is None else joules / 3.6e6


def fleet_groups_plot(report: dict[str, Any]) -> str | None:
    """Energy of each group of the fleet view (largest first), split measured/estimated."""
    groups = (report.get("groups") or [])[:20]
    if not groups or not any(g["energy_kwh"] for g in groups):
        return None
    factor, unit = energy_scale(max(g["energy_kwh"] for g in groups))
    fig, ax = _figure(height=max(1.8, 0.3 * len(groups) + 1.0))
    positions = list(range(len(groups)))[::-1]
    left = [0.0] * len(groups)
    colours = {"measured": "#3a923a", "mixed": "#e0a100", "estimated": "#9aa5b1"}
    for basis, colour in colours.items():
        widths = [g["energy_by_basis_kwh"][basis] * factor for g in groups]
        if any(widths):
            ax.barh(positions, widths, left=left, color=colour, label=basis)
            left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_yticks(positions, [str(g["key"]) for g in groups])
    ax.set_xlabel(f"energy ({unit}) by basis of the runs' figures")
    ax.legend(loc="lower right", frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig, "fleet-groups", f"Energy by {report['group_by']}")


def fleet_trend_plot(report: dict[str, Any]) -> str | None:
    """Energy per day (or week), stacked by group."""
    trend = report.get("trend") or {}
    buckets, series = trend.get("buckets") or [], trend.get("series_kwh") or {}
    if not buckets or not series:
        return None
    from datetime import date

    factor, unit = energy_scale(max((sum(v) for v in zip(*series.values(), strict=True)),
                                    default=0.0))  # fmt: skip
    fig, ax = _figure()
    days = [date.fromisoformat(b) for b in buckets]
    bottom = [0.0] * len(days)
    width = 6.0 if trend["bucket"] == "week" else 0.85
    for index, (name, values) in enumerate(series.items()):
        heights = [v * factor for v in values]
        colour = "#bbbbbb" if name == "others" else FALLBACK[index % len(FALLBACK)]
        if index < 3 and name != "others":
            colour = ("#3b75af", "#e07b39", "#3a923a")[index]
        ax.bar(days, heights, bottom=bottom, width=width, color=colour, label=name)
        bottom = [a + b for a, b in zip(bottom, heights, strict=True)]
    ax.set_ylabel(f"energy ({unit}) per {trend['bucket']}")
    ax.set_xlabel("UTC")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=5, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.autofmt_xdate()
    return _svg(fig, "fleet-trend", f"Energy per {trend['bucket']} by {report['group_by']}")
