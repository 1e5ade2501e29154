"""`vatio run -- CMD`: run a command under the tracker and record it."""

from __future__ import annotations

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
    json_output: bool = typer.Option(False, "--json", help="Print the run record as JSON."),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print nothing but the command's output."
    ),
) -> None:
    from vatio.cli.child import run_tracked
    from vatio.errors import InputError

    if not command:
        raise InputError(
            "No command to run.", "Put the command after `--`: vatio run -- python train.py"
        )
    code = run_tracked(
        command,
        overrides=ProfileOptions.overrides(zone, name, store, interval, idle_baseline, pue),
        json_output=json_output,
        quiet=quiet,
    )
    raise typer.Exit(code)
