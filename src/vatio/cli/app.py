"""The `vatio` command. Command modules import their heavy dependencies lazily."""

from __future__ import annotations

import sys

import typer

from vatio import __version__
from vatio.errors import VatioError

app = typer.Typer(
    name="vatio",
    help="Measure, report and reduce the energy and carbon of AI workloads.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vatio {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Measure, report and reduce the energy and carbon of AI workloads."""


#: command modules in help order; a module not written yet is skipped (features land one by one)
COMMAND_MODULES = (
    "run", "runs", "hardware", "zones", "schedule", "optimize", "scale",
    "report", "check", "env", "compare", "provenance", "fl", "demo",
)  # fmt: skip


def _register_commands() -> None:
    import importlib
    import importlib.util

    for name in COMMAND_MODULES:
        module_name = f"vatio.cli.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        importlib.import_module(module_name).register(app)


_register_commands()


def main() -> None:
    """Entry point: user mistakes become one sentence on stderr and exit code 2."""
    try:
        app()
    except VatioError as error:
        from vatio.cli.output import print_error

        print_error(error)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("vatio: interrupted\n")
        sys.exit(130)
