"""`vatio power`: low-power modes (GPU power limit and clocks, CPU frequency, threads, cores).

show what can be tuned here, sweep a job across settings and choose one,
apply it, restore the machine. Heavy modules load inside the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from vatio.errors import InputError

power_app = typer.Typer(
    help="Power modes: show knobs, sweep a job across settings, apply the chosen one, restore.",
    no_args_is_help=True,
)
JSON = typer.Option(False, "--json", help="Print JSON.")


def register(app: typer.Typer) -> None:
    import vatio.cli.power_sweep  # noqa: F401  (adds `power sweep` to power_app)

    app.add_typer(power_app, name="power")


def stderr_console() -> Any:
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        console.width = max(console.width, 120)
    return console


def restore_first() -> None:
    from vatio.power.restore import restore_pending

    restore_pending()


@power_app.command("show")
def show(json_output: bool = JSON) -> None:
    """What can be tuned here, the current values, and what permission is missing (with the fix)."""
    restore_first()
    from vatio.power.discovery import discover_knobs
    from vatio.power.restore import held_settings

    with discover_knobs() as knobset:
        statuses = [k.status() for k in knobset.knobs]
        notes = list(knobset.notes)
    pending = held_settings()
    if json_output:
        from vatio.cli.output import print_json

        print_json({"knobs": [s.to_dict() for s in statuses], "notes": notes, "held": pending})
        return
    from rich.console import Console

    from vatio.power.render import render_show

    render_show(statuses, notes, Console(), pending)


@power_app.command("apply", context_settings={"allow_interspersed_args": False})
def apply(
    command: list[str] = typer.Argument(
        None, help="Optional: run this under the setting, after --."
    ),
    profile: Path = typer.Option(
        None,
        "--profile",
        help="best.json / .toml from `vatio power sweep -o` (else the project's).",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print what would change; change nothing."
    ),
    json_output: bool = JSON,
) -> None:
    """Apply a [tool.vatio.power] setting: until `vatio power restore`, or while CMD runs."""
    restore_first()
    from vatio.power.apply import apply_persistent, plan_apply, run_with
    from vatio.power.discovery import discover_knobs
    from vatio.power.settings import load_power_profile

    table = load_power_profile(profile)
    console = stderr_console()
    with discover_knobs() as knobset:
        plan = plan_apply(table, knobset)
        lines = [c.line() for c in plan.changes]
        if dry_run or not plan.changes:
            _say(
                json_output, {"dry_run": dry_run, "changes": lines}, console, lines, "would change"
            )
            return
        if command:
            outcome, restored = run_with(plan, list(command))
            _say(
                json_output,
                {"changes": lines, "exit_code": outcome.exit_code, "restored": restored},
                console,
                [*lines, *(f"restored: {r}" for r in restored)],
                "applied while the command ran",
            )
            raise typer.Exit(outcome.exit_code)
        if not plan.machine():
            raise InputError(
                "Threads and cores apply to a process, not to the machine.",
                "Run the job under them: vatio power apply --profile best.json -- python train.py",
            )
        apply_persistent(plan, list(sys.argv))
    _say(
        json_output,
        {"changes": lines, "persistent": True},
        console,
        [*lines, "kept until `vatio power restore`"],
        "applied",
    )


def _say(
    json_output: bool, data: dict[str, Any], console: Any, lines: list[str], verb: str
) -> None:
    if json_output:
        from vatio.cli.output import print_json

        print_json(data)
        return
    if not lines:
        console.print("Nothing to change: the setting is empty.")
    for line in lines:
        console.print(f"{verb}: {line}")


@power_app.command("restore")
def restore(
    force: bool = typer.Option(False, "--force", help="Also settings a running vatio holds."),
    json_output: bool = JSON,
) -> None:
    """Put back every power setting vatio changed on this machine (also after a crash)."""
    from vatio.power.restore import restore_files

    lines = restore_files(force=force)
    if json_output:
        from vatio.cli.output import print_json

        print_json({"restored": lines})
        return
    console = stderr_console()
    if not lines:
        console.print("Nothing to restore: vatio holds no changed power setting on this machine.")
    for line in lines:
        console.print(line)
