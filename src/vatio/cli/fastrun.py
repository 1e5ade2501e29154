"""`vatio run [OPTIONS] -- CMD ...`, parsed without typer: the command people type most.

argparse (standard library) instead of the typer app keeps the start-up of a
measured job small; the options are the same as the profile's, and a bad one is
one sentence and exit code 2 before the job starts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from vatio.cli.lean import LeanParser
from vatio.errors import InputError

USAGE = "vatio run [OPTIONS] -- COMMAND [ARGS]..."
DESCRIPTION = (
    "Run a command under the energy tracker and record it. The job's stdin, stdout and "
    "stderr pass through, signals are forwarded, and vatio exits with the job's exit code; "
    "the summary goes to stderr."
)


def parser() -> argparse.ArgumentParser:
    p = LeanParser(prog="vatio run", usage=USAGE, description=DESCRIPTION, allow_abbrev=False)
    add = p.add_argument
    add("-z", "--zone", help="Grid zone for carbon, e.g. ES, FR, US-CAL-CISO, gcp:us-west2.")
    add("-n", "--name", help="A name for the run.")
    add("--store", help="Run store: SQLAlchemy URL or SQLite path.")
    add("--interval", help="Sampling interval, e.g. 1s or 100ms.")
    add("--idle-baseline", help="Measure idle power first for this long (e.g. 10s).")
    add("--pue", help="Power usage effectiveness of the site (>= 1).")
    add("--group", help="Logical run of a multi-node job (default: the launcher's job id).")
    add(
        "--json",
        action="store_true",
        dest="json_output",
        help="Print the run record as JSON on stdout (after the job's output).",
    )
    add("--json-file", type=Path, help="Write the run record as JSON to this file.")
    add("-q", "--quiet", action="store_true", help="Print nothing but the command's output.")
    add(
        "--artifact",
        type=Path,
        action="append",
        default=[],
        help="A file the command writes (e.g. a model): hashed and recorded; repeatable.",
    )
    add(
        "--kill-after",
        default="10s",
        help="SIGKILL the job this long after forwarding it SIGTERM/SIGHUP (0: never).",
    )
    add(
        "--greenest",
        action="store_true",
        help="Wait for the cleanest window before the deadline, then run.",
    )
    add("--duration", help="With --greenest: the job's expected length.")
    add("--deadline", help='With --greenest: latest end, "2026-11-28 08:00" (local time).')
    add("--within", help="With --greenest: deadline from now (e.g. 24h).")
    add(
        "--interruptible",
        action="store_true",
        help="With --greenest: suspend the job in dirty slots.",
    )
    add("--min-chunk", help="With --interruptible: shortest chunk.")
    add("--forecast", help="With --greenest: a forecast file.")
    add("--provider", help="With --greenest: electricitymaps or ukgrid (opt-in, online).")
    add("command", nargs=argparse.REMAINDER, help="The command to run, after --.")
    return p  # fmt: skip


def main_run(argv: list[str], launcher: Any = None) -> int:
    """Parse, check and run; returns vatio's exit code (the job's). `launcher`: see
    vatio.cli.launchers (None: the job is spawned and supervised here)."""
    args = parser().parse_args(argv)
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise InputError(
            "No command to run.", "Put the command after `--`: vatio run -- python train.py"
        )
    plan_options = {
        "duration": args.duration,
        "deadline": args.deadline,
        "within": args.within,
        "interruptible": args.interruptible,
        "min_chunk": args.min_chunk,
        "forecast": args.forecast,
        "provider": args.provider,
    }
    if not args.greenest and any(plan_options.values()):
        raise InputError(
            "--duration, --deadline, --interruptible and the like only apply with --greenest.",
            "Add --greenest, or drop them.",
        )
    from vatio.units import parse_duration, parse_number
    from vatio.userfiles import check_output_path

    kill_after_s = parse_duration(args.kill_after, what="--kill-after", allow_zero=True)
    pue = parse_number(args.pue, what="--pue") if args.pue is not None else None
    check_output_path(args.json_file, "--json-file", protect=[args.store])
    from vatio.cli.child import run_tracked

    return run_tracked(
        command,
        overrides={
            "zone": args.zone,
            "name": args.name,
            "store": args.store,
            "interval": args.interval,
            "idle_baseline": args.idle_baseline,
            "pue": pue,
        },
        json_output=args.json_output,
        json_file=args.json_file,
        quiet=args.quiet,
        greenest=plan_options if args.greenest else None,
        artifacts=args.artifact,
        kill_after_s=kill_after_s,
        group=args.group,
        launcher=launcher,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main_run(sys.argv[1:]))
