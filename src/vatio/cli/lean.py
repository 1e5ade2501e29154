"""Commands parsed with argparse instead of typer: the ones people type most often.

Importing typer and click costs ~60 ms, a quarter of the budget of `runs list`;
so `vatio run`, `vatio runs list`, `vatio runs show` and `vatio schedule` are parsed here and the
entry point calls them before typer is imported. Each is defined once, by its
parser; the typer app keeps a pass-through command of the same name (so `vatio
runs --help` lists it and programs that drive the app object reach it).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from vatio.errors import InputError, VatioError

#: words of the command -> (module, its function taking the remaining arguments and returning
#: vatio's exit code, its function building the parser: the CLI fuzz test walks it)
LEAN_COMMANDS: dict[tuple[str, ...], tuple[str, str, str]] = {
    ("run",): ("vatio.cli.fastrun", "main_run", "parser"),
    ("runs", "list"): ("vatio.cli.runs_read", "main_list", "list_parser"),
    ("runs", "show"): ("vatio.cli.runs_read", "main_show", "show_parser"),
    ("schedule",): ("vatio.cli.schedule", "main_schedule", "parser"),
}


class LeanParser(argparse.ArgumentParser):
    """argparse with vatio's error policy: one sentence, exit code 2, no usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{self.prog}: {message}.", f"See `{self.prog} --help`.")


def lean_command(argv: list[str]) -> tuple[Callable[[list[str]], int], list[str]] | None:
    """The lean command `argv` starts with and its own arguments, or None."""
    for words, (module, function, _) in LEAN_COMMANDS.items():
        if tuple(argv[: len(words)]) == words:
            import importlib

            return getattr(importlib.import_module(module), function), argv[len(words) :]
    return None


def register_passthrough(
    app: Any, name: str, target: Callable[[list[str]], int], help: str
) -> None:
    """A typer command `name` that hands all its arguments to a lean command."""
    import typer

    def command(ctx) -> None:  # annotated below: typer is not imported at module level
        try:
            code = target(list(ctx.args))
        except VatioError as error:  # as the entry point would: one sentence, its exit code
            from vatio.cli.output import print_error

            print_error(error)
            code = error.exit_code
        raise typer.Exit(code)

    command.__annotations__ = {"ctx": typer.Context, "return": None}

    app.command(
        name,
        context_settings={
            "allow_interspersed_args": False,
            "ignore_unknown_options": True,
            "allow_extra_args": True,
            "help_option_names": [],
        },
        add_help_option=False,
        help=help,
    )(command)


def bounded_int(option: str, low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high], else one sentence naming the option."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise InputError(
                f"{option} {text[:40]!r} is not a whole number.", f"Give e.g. {option} 20."
            ) from None
        if not low <= value <= high:
            raise InputError(
                f"{option} {value} is out of range.", f"Give a number from {low} to {high}."
            )
        return value

    return parse
