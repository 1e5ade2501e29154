"""The `vatio` entry point, light enough that `vatio run` does not pay for the whole CLI.

`vatio run ...`, `runs list`, `runs show` and `schedule` go to their own lean
parsers (`vatio.cli.lean`) before typer, click and every command module are
imported; every other command goes to the typer app (`vatio.cli.app`), which
loads only the module of the command asked for. Here too is the one error boundary of every command.
"""

from __future__ import annotations

import contextlib
import sys

from vatio.errors import VatioError

TYPE_CHECKING = False  # not typing's: `vatio run`'s client never imports typing
if TYPE_CHECKING:
    from collections.abc import Callable


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


def _exit_now(code: int) -> None:
    """Exit with the job's code without the interpreter's teardown (tens of ms with the
    tracker's modules loaded): the record is written and the streams are flushed first."""
    import os

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if os.environ.get("VATIO_NO_FAST_EXIT"):  # e.g. coverage tools that write at exit
        sys.exit(code)
    os._exit(code)


def _top_level(flag: str) -> None:
    """`vatio --help` and `vatio --version` without loading typer and click."""
    if flag == "--version":
        from vatio import __version__

        sys.stdout.write(f"vatio {__version__}\n")
    else:
        from vatio.cli.commands import top_help

        sys.stdout.write(top_help())
    sys.exit(0)


def cli() -> None:
    """The installed `vatio` command (and `python -m vatio`)."""
    main(fast_exit=True)


def main(fast_exit: bool = False) -> None:
    """Entry point: user mistakes become one sentence on stderr and exit code 2; an error
    that is vatio's own becomes one sentence and exit code 70, never a traceback.

    `fast_exit` (the installed command only, never in-process callers): `vatio run` goes
    through the resident recorder when one serves (vatio.cli.resident), and leaves without
    the interpreter's teardown once the record is written."""
    sys.exit(guarded(lambda: _dispatch(sys.argv[1:], fast_exit)))


def _dispatch(argv: list[str], fast_exit: bool) -> int:
    _check_arguments(argv)
    if argv[:1] != ["power"]:  # the power commands restore (and report) themselves
        _restore_power_settings()
    if argv in (["--help"], ["-h"], ["--version"]):
        _top_level(argv[0])
    resident = None
    if fast_exit:
        from vatio.cli import resident  # standard library only: cheap for every command

        code = resident.run_resident(argv)  # None: not a command it serves, or none serves
        if code is not None:
            _exit_now(code)
    from vatio.cli.lean import lean_command

    lean = lean_command(argv)
    if lean is not None:  # run, runs list|show, schedule: no typer
        command, arguments = lean
        code = command(arguments)
        if resident is not None:
            resident.start_host_if_wanted()
        if fast_exit:
            _exit_now(code)
        return code
    from vatio.cli.app import app

    app()
    return 0


def guarded(body: Callable[[], int]) -> int:
    """Run a command's `body` inside the one error boundary; returns the exit code.

    Also used by the resident recorder's worker, which runs `vatio run` for a client."""
    try:
        return body()
    except SystemExit as done:  # --help, typer and click finish this way
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        sys.stderr.write(f"{done.code}\n")
        return 1
    except VatioError as error:
        from vatio.cli.output import print_error

        print_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("vatio: interrupted\n")
        return 130
    except OSError as error:  # a path or device the user named cannot be used
        from vatio.cli.output import print_error

        where = str(error.filename)[:120] if error.filename else "a file or device"
        reason = error.strerror or type(error).__name__
        print_error(VatioError(f"Cannot use {where}: {reason}.", "Check the paths given."))
        return 2
    except Exception as error:  # a bug: say so in one sentence; VATIO_DEBUG=1 shows where
        import os

        if os.environ.get("VATIO_DEBUG"):
            raise
        from vatio.cli.output import one_line

        sys.stderr.write(
            f"vatio: internal error: {type(error).__name__}: {one_line(str(error))[:300]} "
            "(a bug in vatio; VATIO_DEBUG=1 shows the traceback, please report it)\n"
        )
        return INTERNAL_ERROR
