"""`vatio run` in the typer app: hands its arguments to the lean parser in `fastrun`.

`vatio run ...` typed in a shell never reaches here (the entry point goes to
`fastrun` directly); this keeps `run` a command of the app for programs that
drive the app object.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command(
        "run",
        context_settings={
            "allow_interspersed_args": False,
            "ignore_unknown_options": True,
            "allow_extra_args": True,
            "help_option_names": [],
        },
        add_help_option=False,
        help="Run a command under the energy tracker and record it: vatio run [OPTIONS] -- CMD ...",
    )(run_command)


def run_command(ctx: typer.Context) -> None:
    from vatio.cli.fastrun import main_run

    raise typer.Exit(main_run(list(ctx.args)))
