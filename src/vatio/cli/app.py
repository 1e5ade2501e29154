"""The `vatio` command.

Commands load lazily: `vatio --help` and each command import only the module
of the command asked for (the table below gives the help line of each), and
`vatio run` goes straight to its own lean path (`vatio.cli.fastrun`), so the
command people type most adds as little as possible to their job.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from vatio import __version__
from vatio.errors import VatioError

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


def _restore_power_settings() -> None:
    """After a vatio that changed power settings was killed (SIGKILL), the next vatio start
    puts them back, with a warning. Costs one directory listing when nothing is pending."""
    import os

    folder = os.environ.get("VATIO_POWER_STATE_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"), "vatio", "power"
    )
    try:
        pending = any(n.startswith("restore-") and n.endswith(".json") for n in os.listdir(folder))
    except OSError:
        return
    if pending:
        from vatio.power.restore import restore_pending

        restore_pending()


#: exit code of an error that is vatio's, not the user's (BSD sysexits EX_SOFTWARE)
INTERNAL_ERROR = 70


def _check_arguments(argv: list[str]) -> None:
    """Arguments no command can take: a NUL byte (no path, name or command holds one)."""
    for position, argument in enumerate(argv, start=1):
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            raise VatioError(
                f"Argument {position} is not valid UTF-8 text (bytes the terminal could not "
                "decode); vatio records arguments as text.",
                "Rename the file or retype the value in UTF-8.",
            ) from None
        if "\x00" in argument:
            raise VatioError(
                f"Argument {position} contains a NUL byte, which no option, path or command "
                "can hold.",
                "Check how the command line was built.",
            )


def main() -> None:
    """Entry point: user mistakes become one sentence on stderr and exit code 2; an error
    that is vatio's own becomes one sentence and exit code 70, never a traceback."""
    try:
        _check_arguments(sys.argv[1:])
        if sys.argv[1:2] != ["power"]:  # the power commands restore (and report) themselves
            _restore_power_settings()
        if sys.argv[1:2] == ["run"]:
            from vatio.cli.fastrun import main_run

            sys.exit(main_run(sys.argv[2:]))
        app()
    except VatioError as error:
        from vatio.cli.output import print_error

        print_error(error)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("vatio: interrupted\n")
        sys.exit(130)
    except OSError as error:  # a path or device the user named cannot be used
        from vatio.cli.output import print_error

        where = str(error.filename)[:120] if error.filename else "a file or device"
        reason = error.strerror or type(error).__name__
        print_error(VatioError(f"Cannot use {where}: {reason}.", "Check the paths given."))
        sys.exit(2)
    except Exception as error:  # a bug: say so in one sentence; VATIO_DEBUG=1 shows where
        import os

        if os.environ.get("VATIO_DEBUG"):
            raise
        from vatio.cli.output import one_line

        sys.stderr.write(
            f"vatio: internal error: {type(error).__name__}: {one_line(str(error))[:300]} "
            "(a bug in vatio; VATIO_DEBUG=1 shows the traceback, please report it)\n"
        )
        sys.exit(INTERNAL_ERROR)
