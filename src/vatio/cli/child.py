"""Supervising the child of `vatio run`: signals, exit codes, and the record.

In a terminal, Ctrl-C reaches every process of the foreground group, the
child included, so vatio forwards SIGINT only when it is not that group
(e.g. `kill -INT` from a script); SIGTERM and SIGHUP are always forwarded.
The child's exit code becomes vatio's (128 + N when signal N killed it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class Outcome:
    exit_code: int
    status: str
    error: str | None = None
    signals_received: list[int] = field(default_factory=list)


def _terminal_delivers_sigint() -> bool:
    """True when Ctrl-C from this terminal already reaches the child directly."""
    try:
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


def supervise(
    command: list[str],
    *,
    new_session: bool = False,
    on_spawn: Callable[[subprocess.Popen], Callable[[], None] | None] | None = None,
) -> Outcome:
    """Run `command` without a shell, forwarding signals; never raises for the child's sake.

    `new_session` puts the child in its own process group (needed to suspend it as a
    whole); `on_spawn` may start helpers around the child and return their cleanup.
    """
    try:
        child = subprocess.Popen(command, start_new_session=new_session)
    except FileNotFoundError:
        return Outcome(127, "failed", f"command not found: {command[0]}")
    except PermissionError:
        return Outcome(126, "failed", f"permission denied: {command[0]} is not executable")
    except OSError as error:
        return Outcome(126, "failed", f"cannot execute {command[0]}: {error.strerror}")

    received: list[int] = []

    def forward(signum: int, _frame: Any) -> None:
        received.append(signum)
        if signum == signal.SIGINT and not new_session and _terminal_delivers_sigint():
            return
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    cleanup = on_spawn(child) if on_spawn else None
    try:
        returncode = child.wait()
    finally:
        if cleanup is not None:
            cleanup()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return _outcome(returncode, received)


def _outcome(returncode: int, received: list[int]) -> Outcome:
    if returncode < 0:
        signum = -returncode
        name = signal.Signals(signum).name
        status = "interrupted" if signum == signal.SIGINT else "killed"
        return Outcome(128 + signum, status, f"terminated by {name}", received)
    if signal.SIGINT in received:
        return Outcome(returncode, "interrupted", "interrupted by SIGINT", received)
    if signal.SIGTERM in received or signal.SIGHUP in received:
        name = signal.Signals(received[-1]).name
        return Outcome(returncode, "killed", f"stopped by {name}", received)
    if returncode != 0:
        return Outcome(returncode, "failed", f"exited with code {returncode}", received)
    return Outcome(0, "completed", None, received)


def run_tracked(
    command: list[str],
    *,
    overrides: dict[str, Any],
    json_output: bool = False,
    quiet: bool = False,
    greenest: dict[str, Any] | None = None,
    artifacts: list | None = None,
) -> int:
    """Measure and record `command`; returns the exit code vatio should exit with."""
    from vatio.api import Tracker

    tracker = Tracker(command=command, **_tracker_args(overrides))
    plan = None
    if greenest is None and tracker.profile.schedule and tracker.profile.schedule.greenest:
        greenest = tracker.profile.schedule.model_dump()
    if greenest is not None:
        from vatio.cli.greenest import plan_and_wait

        plan = plan_and_wait(greenest, tracker.profile, quiet=quiet)
        if plan is None:
            return 130
        tracker.schedule = plan.record
    tracker.start()
    try:
        outcome = supervise(
            command,
            new_session=bool(plan and plan.slots),
            on_spawn=plan.suspender if plan and plan.slots else None,
        )
    except BaseException as error:  # vatio itself failed: still record the run
        tracker.stop("failed", error=f"vatio: {error!r}")
        raise
    if outcome.exit_code in (126, 127) and outcome.status == "failed" and outcome.error:
        sys.stderr.write(f"vatio: {outcome.error}\n")
    for path in artifacts or []:
        if path.is_file():
            tracker.add_artifact(path)
        else:
            sys.stderr.write(f"vatio: warning: artifact {path} was not written; not recorded\n")
    result = tracker.stop(outcome.status, exit_code=outcome.exit_code, error=outcome.error)
    if json_output:
        from vatio.cli.output import print_json

        print_json(
            result.to_dict() | {"store": tracker.store_url, "store_error": tracker.store_error}
        )
    elif not quiet:
        from rich.console import Console

        from vatio.cli.summary import render_summary

        render_summary(result.to_dict(), Console(stderr=True))
    return outcome.exit_code


def _tracker_args(overrides: dict[str, Any]) -> dict[str, Any]:
    return {
        "zone": overrides.get("zone"),
        "name": overrides.get("name"),
        "store": overrides.get("store"),
        "pue": overrides.get("pue"),
        "interval_s": overrides.get("interval"),
        "idle_baseline_s": overrides.get("idle_baseline"),
    }
