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

#: command name -> (module under vatio.cli, one-line help), in help order
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "Run a command under the energy tracker and record it."),
    "runs": ("runs", "List, show, export, import and diff recorded runs."),
    "hardware": ("hardware", "Energy sensors found here, and how to enable the missing ones."),
    "zones": ("zones", "Grid zones with carbon-intensity data, and their sources."),
    "schedule": ("schedule", "The cleanest time (and zone) to run a job before a deadline."),
    "optimize": ("optimize", "Optimise a model for deployment and prove the trade-off."),
    "scale": ("scale", "Whether more workers, threads or a larger batch pay for the energy."),
    "report": ("report", "HTML, Markdown or JSON reports; the EU AI Act Annex XI section."),
    "check": ("check", "The guide's checklist: PASS, WARN, FAIL or N/A, with evidence."),
    "env": ("env", "Lockfiles, drift, approved versions, SBOM, vulnerabilities."),
    "compare": ("compare", "Fail CI on a significant energy regression, never on noise."),
    "provenance": ("provenance", "Which recorded run produced this file."),
    "ledger": ("ledger", "Verify the signed log of runs; checkpoints and cosignatures."),
    "store": ("store", "Create or upgrade the run store's schema."),
    "exporter": ("exporter", "Serve Prometheus metrics: power, energy, grid intensity, runs."),
    "power": ("power", "Power limits, clocks, threads and cores: show, sweep, apply, restore."),
    "rightsize": ("rightsize", "Under-used hardware from recorded runs; cloud vs on-premise."),
    "fl": ("fl", "Federated learning: advise, run on Flower measured and audited, compare."),
    "demo": ("demo", "Train the bundled example under the tracker (no download)."),
}


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
    """A command whose module is not part of this install (a feature not landed) is hidden."""
    return importlib.util.find_spec(f"vatio.cli.{module}") is not None


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
