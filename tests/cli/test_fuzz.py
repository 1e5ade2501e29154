"""Hostile values to every option of every command: no traceback, no hang, exit 2 with one
sentence (or a normal answer where the value is legitimate).

The commands are found by walking the app itself, so a new command or option is fuzzed
without editing this file. Each case runs in-process through the real entry point
(`vatio.cli.app.main`, which turns VatioError into one sentence) under an alarm, so a
hang fails its case instead of the suite. Commands that do long work when given valid
values (training, studies, servers) get only values that are invalid by construction.
"""

from __future__ import annotations

import importlib
import io
import signal
import sys
import traceback
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import click
import pytest
import typer

from tests.report.records import make_result, save
from vatio.cli.app import COMMANDS, app, main
from vatio.cli.lean import LEAN_COMMANDS

HUGE = "99999999999999999999"
NUMBERS = ["-1", "nan", "inf", HUGE, "1e400", "abc", ""]
TEXTS = ["", "\x00", "\udcff", "x" * 5000, "9999-12-31 00:00", "2020-01-01", "100000000000d", "-5"]
#: commands whose valid input starts long work or a server: only invalid-by-construction values
HEAVY = {"demo", "optimize", "scale", "exporter", "fl run", "fl compare", "power sweep",
         "power apply", "compare", "env audit"}  # fmt: skip
#: options that would reach the network or another machine with a valid value
SKIP = {("env", "audit"), ("exporter",)}
ALARM_S = 25


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    store = root / "v.db"
    record = save(store, make_result(name="fuzzed"))
    (root / "folder").mkdir()
    (root / "bytes.bin").write_bytes(bytes(range(256)) * 8)
    (root / "deep.json").write_text("[" * 50_000 + "]" * 50_000)
    return {"root": root, "store": store, "run": record["id"]}


def leaf_commands() -> list[tuple[str, click.Command]]:
    group = typer.main.get_command(app)
    ctx = click.Context(group)
    found = []
    for name in COMMANDS:
        command = group.get_command(ctx, name)
        if command is None:
            continue
        if isinstance(command, click.Group):
            for sub in command.list_commands(ctx):
                found.append((f"{name} {sub}", command.get_command(ctx, sub)))
        else:
            found.append((name, command))
    return found


_unique = iter(range(10**9))


def hostile_values(param: click.Parameter, world: dict) -> list[str]:
    root = world["root"]
    missing = root / f"missing-{next(_unique)}" / "x.json"  # no earlier case can have made it
    paths = [str(root / "folder"), str(missing), str(root / "bytes.bin"),
             str(root / "deep.json"), str(world["store"])]  # fmt: skip
    kind = param.type
    if isinstance(kind, click.Path) or "file" in param.name or param.name in (
        "output", "plot", "forecast", "checkpoint", "key", "log", "profile", "approved",
        "lockfile", "wheels", "offline", "script",
    ):  # fmt: skip
        return paths
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
        return NUMBERS
    if isinstance(kind, click.Choice):
        return ["bogus", ""]
    return TEXTS + paths[:2]


def invoke(argv: list[str], store: Path, cwd: Path) -> tuple[int, str, str, str | None]:
    """Run `vatio ARGV` in-process: exit code, stdout, stderr, and a traceback if any."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.argv
    sys.argv = ["vatio", *argv]
    code, crash = 0, None

    def hang(_signum, _frame):
        raise TimeoutError(f"no answer within {ALARM_S} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(ALARM_S)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            main()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        crash = traceback.format_exc()
        code = -1
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        sys.argv = old
    return code, out.getvalue(), err.getvalue(), crash


def cases(world: dict) -> list[list[str]]:
    out: list[list[str]] = []
    for name, command in leaf_commands():
        words = name.split()
        if tuple(words) in SKIP:
            continue
        heavy = name in HEAVY or words[0] in HEAVY
        base = _base(name, world)
        for param in command.params:
            if not isinstance(param, click.Option) or param.is_flag or param.hidden:
                continue
            values = hostile_values(param, world)
            if heavy:  # only values no valid run could take (a folder is valid for --out)
                folder_ok = param.name in ("out", "output")
                values = [
                    v for v in values
                    if v in NUMBERS[:5] or ("folder" in v and not folder_ok) or "missing" in v
                ]  # fmt: skip
            flag = max(param.opts, key=len)
            out += [[*words, flag, value, *base] for value in values]
        for param in command.params:
            if isinstance(param, click.Argument) and not heavy and name != "run":
                out += [[*words, value] for value in ["", "\x00", "zzzz", str(world["root"])]]
    return out


def lean_cases(world: dict) -> list[list[str]]:
    """The commands parsed by argparse (`vatio.cli.lean`): every option of their parsers."""
    out: list[list[str]] = []
    for words, (module, _, build) in LEAN_COMMANDS.items():
        name = " ".join(words)
        parser = getattr(importlib.import_module(module), build)()
        tail = ["--", "true"] if name == "run" else _base(name, world)
        for action in parser._actions:
            if not action.option_strings or action.nargs == 0 or action.help == "==SUPPRESS==":
                continue
            flag = max(action.option_strings, key=len)
            if name == "run" or (action.type is not None and action.type is not Path):
                values = NUMBERS  # (a run starts a real job: no long texts there)
            else:
                values = hostile_values(_Named(action.dest), world)
            out += [[*words, flag, value, *tail] for value in values]
        if name != "run":
            out += [[*words, value] for value in ["", "\x00", "zzzz", str(world["root"])]]
    return out


class _Named:
    """An argparse option seen as `hostile_values` sees a click one (by name, as text)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.type = click.STRING


def _base(name: str, world: dict) -> list[str]:
    """What a command needs besides the fuzzed option (a run id, a command after --)."""
    return {
        "report": [world["run"]],
        "runs show": [world["run"]],
        "runs tag": [world["run"], "t"],
        "runs diff": [world["run"], world["run"]],
        "runs import": [str(world["root"] / "bytes.bin")],
        "provenance": [str(world["root"] / "bytes.bin")],
        "ledger cosign": [str(world["root"] / "bytes.bin")],
        "power sweep": ["--dry-run", "--", "true"],
        "power apply": ["--dry-run"],
        "compare": ["--baseline", "nosuch"],
    }.get(name, [])


def test_every_option_of_every_command_survives_hostile_values(world, monkeypatch):
    monkeypatch.setenv("VATIO_STORE", str(world["store"]))
    monkeypatch.setenv("VATIO_DEBUG", "1")  # a bug surfaces as a traceback here
    monkeypatch.chdir(world["root"])
    found: list[str] = []
    all_cases = cases(world)
    run_cases = lean_cases(world)
    assert len(all_cases) > 300  # the walk found the commands and their options
    assert {tuple(c[:2]) for c in run_cases} >= {("runs", "list"), ("runs", "show")}
    for argv in all_cases + run_cases:
        code, _out, err, crash = invoke(argv, world["store"], world["root"])
        shown = " ".join(repr(a)[:40] for a in argv)
        if crash is not None:
            found.append(f"vatio {shown}: traceback\n{crash[-1200:]}")
        elif "internal error" in err:
            found.append(f"vatio {shown}: {err.strip()[:400]}")
        elif code not in (0, 1, 2):
            found.append(f"vatio {shown}: exit {code}")
        elif code == 2 and "Traceback" in err:
            found.append(f"vatio {shown}: traceback text on stderr")
        elif code == 2 and len([line for line in err.splitlines() if line.strip()]) > 4:
            found.append(f"vatio {shown}: more than one sentence:\n{err[:600]}")
    assert not found, f"{len(found)} of {len(all_cases) + len(run_cases)} cases:\n" + "\n".join(
        found[:15]
    )
