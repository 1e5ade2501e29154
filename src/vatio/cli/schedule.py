"""`vatio schedule`: when (and where) to run a job so the grid is cleanest.

A lean command (`vatio.cli.lean`): parsed with argparse, no typer; numpy, rich
and the data load inside the command, after every option is checked.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vatio.cli.lean import LeanParser
from vatio.errors import InputError


def provider_key(profile: Any) -> str | None:
    """The Electricity Maps key from the profile, if any (the env variable is read later)."""
    secret = profile.electricitymaps_key
    return secret.get_secret_value() if secret is not None else None


DESCRIPTION = "Find the cleanest time (and zone) to run a job before a deadline."


def parser() -> argparse.ArgumentParser:
    p = LeanParser(prog="vatio schedule", description=DESCRIPTION, allow_abbrev=False)
    add = p.add_argument
    add(
        "--zone",
        help="Grid zone(s), comma separated; the first is home (default: the "
        "profile's, else the zone a forecast file names).",
    )
    add("--duration", required=True, help="Job length, e.g. 3h or 1h30m.")
    add("--deadline", help='Latest end, "2026-11-28 08:00" (local time unless it has Z/offset).')
    add("--within", help="Deadline relative to the earliest start (default 24h, max 366d).")
    add("--earliest", help="Earliest start (default now); as --deadline.")
    add("--energy", help="Energy of the job, e.g. 12kWh, for gCO2e.")
    add("--interruptible", action="store_true", help="Plan chunks (suspend between).")
    add("--min-chunk", help="Shortest chunk, e.g. 30m (default: one data step).")
    add(
        "--forecast",
        type=Path,
        help="Forecast file: CSV time,intensity, an Electricity Maps export or JSON.",
    )
    add("--provider", help="Live source: electricitymaps or ukgrid.")
    add("--intensity", help="lca (life cycle) or direct emissions (default: profile, lca).")
    add("--plot", type=Path, help="Write a PNG of the series and the choice.")
    add("--json", action="store_true", dest="json_out", help="Print JSON instead of a table.")
    add(
        "--emit",
        help="Print only the command deferring the job (at, slurm or cron), e.g. for | sh.",
    )
    add("command", nargs=argparse.REMAINDER, help="With --emit: the command to defer, after --.")
    return p  # fmt: skip


def main_schedule(argv: list[str]) -> int:
    """`vatio schedule`, parsed without typer (see vatio.cli.lean)."""
    opts = vars(parser().parse_args(argv))
    command = list(opts["command"] or [])
    if command[:1] == ["--"]:
        command = command[1:]
    elif any(word.startswith("-") for word in command):  # vatio's option, or the command's?
        raise InputError(
            f"Options follow the command {command[0]!r} without `--` before it, so it is not "
            "clear whose they are.",
            "Put vatio's options first and the command after `--`: "
            "vatio schedule --duration 3h --emit at -- python train.py --epochs 3",
        )
    opts["command"] = command
    _import_numpy_single_threaded()
    _schedule(opts)
    return 0


def _import_numpy_single_threaded() -> None:
    """numpy's OpenBLAS starts a thread per core at import (~0.1 s of CPU here), and the
    window search uses none of them: one thread, the variable restored after the import."""
    if "numpy" in sys.modules:
        return
    saved = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        import numpy  # noqa: F401
    finally:
        if saved is None:
            os.environ.pop("OPENBLAS_NUM_THREADS", None)


def _schedule(opts: dict[str, Any]) -> None:
    from vatio.carbon.providers import PROVIDERS, series_for_zone
    from vatio.profile_cache import cached_profile
    from vatio.schedule.request import check_coverage, plan_request, when_text
    from vatio.units import kwh, parse_energy_j

    # Every option is checked here, before any data is read or searched.
    notes: list[str] = []
    profile, sources = cached_profile({})  # validated once per distinct input, then read back
    provider = opts["provider"] or profile.provider
    kind = (opts["intensity"] or profile.intensity).lower()
    zone_text, zone_from = opts["zone"], "--zone"
    if not zone_text and profile.zone:
        zone_text, zone_from = profile.zone, sources.get("zone", "the profile")
        notes.append(f"Zone {profile.zone} from {zone_from}.")
    requested = [code.strip() for code in (zone_text or "").split(",") if code.strip()]
    if not requested and not opts["forecast"]:
        raise InputError(
            "No grid zone given.",
            "Use --zone ES (or several: --zone ES,FR,DE), VATIO_ZONE, or zone in vatio.toml.",
        )
    from vatio.carbon.intensity import KINDS, resolve_zone

    for code in requested:
        resolve_zone(code)  # unknown zones fail here, before any work
    request = plan_request(
        opts["duration"],
        deadline=opts["deadline"],
        within=opts["within"],
        earliest=opts["earliest"],
        min_chunk=opts["min_chunk"],
    )
    if kind not in KINDS:
        raise InputError(f"Unknown intensity kind {opts['intensity']!r}.", "Use lca or direct.")
    if provider and provider not in PROVIDERS:
        raise InputError(f"Unknown provider {provider!r}.", f"Use {' or '.join(PROVIDERS)}.")
    if opts["forecast"] and (opts["provider"] or len(requested) > 1):
        raise InputError(
            "--forecast gives one zone's forecast: use it with at most one --zone, no --provider."
        )
    if opts["emit"]:
        from vatio.schedule.runner import EMIT_KINDS  # subprocess, signals: only when asked
    if opts["emit"] and opts["emit"] not in EMIT_KINDS:
        raise InputError(
            f"Unknown scheduler {opts['emit']!r} for --emit.", "Use at, slurm or cron."
        )
    if opts["command"] and not opts["emit"]:
        raise InputError("A command after -- is only used with --emit.")
    if opts["emit"] and not opts["command"]:
        raise InputError(
            "--emit needs the command to defer after `--`.", "Example: -- python train.py"
        )
    if opts["emit"] and opts["interruptible"]:
        raise InputError(
            "--emit defers one contiguous run; it cannot follow an interruptible plan.",
            "Drop --interruptible, or use `vatio run --greenest --interruptible`.",
        )
    if opts["plot"]:
        from vatio.plotting import check_plot_path

        check_plot_path(opts["plot"])
    energy_kwh = kwh(parse_energy_j(opts["energy"])) if opts["energy"] else None
    if energy_kwh is not None and not 0 < energy_kwh < 1e12:
        raise InputError(
            f"The energy {opts['energy']!r} is out of range.", "Give e.g. 12kWh (more than 0)."
        )

    series = []
    for code in requested or [None]:
        sourced = series_for_zone(
            code,
            request.earliest,
            request.deadline,
            kind=kind,
            forecast=opts["forecast"],
            provider=None if opts["forecast"] else provider,
            key=provider_key(profile),
            timeout=profile.provider_timeout,
            zone_from=zone_from,
        )
        if opts["forecast"]:
            check_coverage(request, sourced.series, f"the {sourced.series.source}")
        series.append(sourced.series)
        notes.extend(note for note in sourced.notes if note not in notes)
    from vatio.schedule.regions import DATA_MOVE_NOTE, compare_regions

    rows = compare_regions(
        series,
        request.duration_s,
        request.earliest,
        request.deadline,
        interruptible=opts["interruptible"],
        min_chunk_s=request.min_chunk_s,
        energy_kwh=energy_kwh,
    )
    home = next(row for row in rows if row.home).result
    if home.deadline < request.deadline:
        notes.append(f"The search stops at the end of the data, {when_text(home.deadline)}.")
    if home.earliest > request.earliest:
        notes.append(f"The data starts at {when_text(home.earliest)}, after the earliest start.")
    if len(series) > 1:
        notes.append(DATA_MOVE_NOTE)
    emitted = None
    if opts["emit"]:
        from vatio.schedule.runner import emit_command

        emitted = emit_command(opts["emit"], home.start, opts["command"], cwd=str(Path.cwd()))
    if opts["plot"]:
        _plot(opts["plot"], series[0], home)
        notes.append(f"Plot written to {opts['plot']}.")
    if opts["json_out"]:
        from vatio.cli.output import print_json

        print_json(
            {
                "mode": "slots" if opts["interruptible"] else "window",
                "duration_s": request.duration_s,
                "requested_earliest": request.earliest.isoformat(),
                "requested_deadline": request.deadline.isoformat(),
                "home": home.to_dict(),
                "zones": [row.to_dict() for row in rows],
                "notes": notes,
                "emit": emitted,
            }
        )
        return
    # With --emit, stdout carries the command alone (`vatio schedule ... --emit at | sh`).
    _print_table(rows, notes, energy_kwh, to_stderr=emitted is not None)
    if emitted:
        sys.stdout.write(emitted + "\n")


def _short(moment: datetime, same_day_as: datetime | None = None) -> str:
    """Compact local time: the hour alone on the same day, the year only when not this one."""
    local = moment.astimezone()
    if same_day_as is not None and local.date() == same_day_as.astimezone().date():
        return local.strftime("%H:%M")
    if local.year != datetime.now().astimezone().year:
        return local.strftime("%d %b %Y %H:%M")
    return local.strftime("%d %b %H:%M")


def _print_table(
    rows: list, notes: list[str], energy_kwh: float | None, *, to_stderr: bool = False
) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from vatio.cli.output import fmt_g
    from vatio.schedule.request import when_text

    console = Console(stderr=to_stderr)
    zone_name = datetime.now().astimezone().strftime("%Z")
    table = Table(
        title="Greenest start" + (" by zone" if len(rows) > 1 else ""),
        caption=f"Times in local time ({zone_name}); intensities in gCO2e/kWh.",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    headers = ["Zone", "Start", "End", "g/kWh", "now", "saved %"]
    if energy_kwh is not None:
        headers += ["gCO2e", "saved g"]
    if len(rows) > 1:
        headers.append("vs home %")
    for name in headers:
        left = name in headers[:3]
        table.add_column(name, justify="left" if left else "right", no_wrap=left)
    for row in rows:
        result = row.result
        cells = [
            result.zone + ("*" if row.home and len(rows) > 1 else ""),
            _short(result.start),
            _short(result.end, result.start),
            f"{result.mean_intensity:.0f}",
            f"{result.now_intensity:.0f}",
            f"{result.savings_pct:.1f}",
        ]
        if energy_kwh is not None:
            cells += [fmt_g(result.gco2e), fmt_g(result.gco2e_now - result.gco2e)]
        if len(rows) > 1:
            cells.append(f"{row.saving_vs_home_best_pct:.1f}")
        table.add_row(*cells)
    console.print(table)
    if len(rows) > 1:
        console.print("* home zone. 'vs home %' compares with the home zone's best window.")
    for row in rows:
        chunks = getattr(row.result, "chunks", None)
        if chunks and row.home:
            console.print(f"Plan for {row.zone}: {len(chunks)} chunk(s), suspended in between")
            for start, end in chunks:
                console.print(f"  run {when_text(start)} → {when_text(end)}")
    for note in notes:
        console.print(note, soft_wrap=True, markup=False, highlight=False)


def _plot(path: Path, series: Any, result: Any) -> None:
    """A PNG of the intensity with the chosen window or chunks shaded."""
    import numpy as np

    from vatio.plotting import pyplot, save_png

    plt = pyplot()

    lo, hi = result.earliest.timestamp(), result.deadline.timestamp()
    keep = (series.times_s + series.step_s > lo) & (series.times_s < hi)
    times = [
        datetime.fromtimestamp(t, UTC)
        for t in np.append(series.times_s[keep], series.times_s[keep][-1] + series.step_s)
    ]
    values = np.append(series.values[keep], series.values[keep][-1])
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.step(times, values, where="post", color="0.3", label=f"{series.zone} intensity")
    for start, end in getattr(result, "chunks", None) or [(result.start, result.end)]:
        ax.axvspan(start, end, color="tab:green", alpha=0.3)
    ax.axvline(result.earliest, color="tab:blue", linestyle=":", label="earliest")
    ax.axvline(result.deadline, color="tab:red", linestyle=":", label="deadline")
    ax.set_ylabel("gCO2e/kWh")
    ax.set_xlabel("time (UTC)")
    ax.set_title(series.source, fontsize=8)
    ax.legend(loc="upper right", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    save_png(fig, path)


def register(app: Any) -> None:
    from vatio.cli.lean import register_passthrough

    register_passthrough(app, "schedule", main_schedule, DESCRIPTION)
