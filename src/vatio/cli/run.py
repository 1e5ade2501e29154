"""`vatio run -- CMD`: run a command under the tracker and record it."""

from __future__ import annotations

from pathlib import Path

import typer

from vatio.cli.options import ProfileOptions


def register(app: typer.Typer) -> None:
    app.command(
        "run",
        context_settings={"allow_interspersed_args": False},
        help="Run a command under the energy tracker and record it: vatio run [OPTIONS] -- CMD ...",
    )(run_command)


def run_command(
    command: list[str] = typer.Argument(None, help="The command to run, after --."),
    zone: str = ProfileOptions.zone,
    name: str = ProfileOptions.name,
    store: str = ProfileOptions.store,
    interval: str = ProfileOptions.interval,
    idle_baseline: str = ProfileOptions.idle_baseline,
    pue: float = ProfileOptions.pue,
    json_output: bool = typer.Option(
        False, "--json", help="Print the run record as JSON on stdout (after the job's output)."
    ),
    json_file: Path = typer.Option(
        None,
        "--json-file",
        help="Write the run record as JSON to this file (stdout stays the job's).",
    ),
    kill_after: str = typer.Option(
        "10s",
        "--kill-after",
        help="SIGKILL the job this long after forwarding it SIGTERM/SIGHUP (0: never).",
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print nothing but the command's output."
    ),
    artifact: list[Path] = typer.Option(
        None, "--artifact", help="A file the command writes (e.g. a model): hashed and recorded."
    ),
    greenest: bool = typer.Option(
        False, "--greenest", help="Wait for the cleanest window before the deadline, then run."
    ),
    duration: str = typer.Option(None, "--duration", help="With --greenest: expected length."),
    deadline: str = typer.Option(
        None, "--deadline", help='With --greenest: latest end, "2026-11-28 08:00" (local time).'
    ),
    within: str = typer.Option(None, "--within", help="With --greenest: deadline from now (24h)."),
    interruptible: bool = typer.Option(
        False, "--interruptible", help="With --greenest: suspend the job in dirty slots."
    ),
    min_chunk: str = typer.Option(
        None, "--min-chunk", help="With --interruptible: shortest chunk."
    ),
    forecast: str = typer.Option(None, "--forecast", help="With --greenest: forecast file."),
    provider: str = typer.Option(
        None, "--provider", help="With --greenest: electricitymaps or ukgrid (opt-in, online)."
    ),
) -> None:
    from vatio.cli.child import run_tracked
    from vatio.errors import InputError
    from vatio.units import parse_duration
    from vatio.userfiles import check_output_path

    if not command:
        raise InputError(
            "No command to run.", "Put the command after `--`: vatio run -- python train.py"
        )
    plan_options = {
        "duration": duration,
        "deadline": deadline,
        "within": within,
        "interruptible": interruptible,
        "min_chunk": min_chunk,
        "forecast": forecast,
        "provider": provider,
    }
    if not greenest and any(plan_options.values()):
        raise InputError(
            "--duration, --deadline, --interruptible and the like only apply with --greenest.",
            "Add --greenest, or drop them.",
        )
    kill_after_s = parse_duration(kill_after, what="--kill-after", allow_zero=True)
    check_output_path(json_file, "--json-file", protect=[store])
    code = run_tracked(
        command,
        json_file=json_file,
        kill_after_s=kill_after_s,
        overrides=ProfileOptions.overrides(zone, name, store, interval, idle_baseline, pue),
        json_output=json_output,
        quiet=quiet,
        greenest=plan_options if greenest else None,
        artifacts=artifact or [],
    )
    raise typer.Exit(code)
