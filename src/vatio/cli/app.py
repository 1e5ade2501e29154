"""The `vatio` command.

Commands load lazily: `vatio --help` and each command import only the module
of the command asked for (the table below gives the help line of each), and
`vatio run` goes straight to its own lean path (`vatio.cli.fastrun`), so the
command people type most adds as little as possible to their job.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import typer
from typer.core import TyperGroup

from vatio import __version__
from vatio.cli.commands import COMMANDS, available


class LazyGroup(TyperGroup):
    """Imports a command's module only when that command is used."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [name for name, (module, _) in COMMANDS.items() if _available(module)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = COMMANDS.get(cmd_name)
        if entry is None or not _available(entry[0]):
            return None
        holder = typer.Typer(add_completion=False, rich_markup_mode=None)
        importlib.import_module(f"vatio.cli.{entry[0]}").register(holder)
        group = typer.main.get_group(holder)
        return group.commands.get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _available(module: str) -> bool:
    return available(module)


app = typer.Typer(
    name="vatio",
    cls=LazyGroup,
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


def main() -> None:
    """The entry point (kept here for programs that import it): see `vatio.cli.entry`."""
    from vatio.cli.entry import main as entry_main

    entry_main()
