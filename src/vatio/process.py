"""Running a child process the way every vatio command does.

No shell; SIGTERM and SIGHUP forwarded to the child; SIGINT forwarded too,
unless the child shares a terminal's foreground group (then Ctrl-C already
reached it, and a second SIGINT would interrupt its clean-up). The outcome says
how the child ended: its exit code (128 + N when signal N killed it) and a
status for the run record.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading

TYPE_CHECKING = False  # not typing's: the resident recorder's client imports this module
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Any

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
KILL_GRACE_S = 10.0
TIMEOUT_EXIT = 124


class Outcome:
    """How the job ended. A plain class, not a dataclass: importing dataclasses (and inspect,
    ~10 ms) before the job is spawned would delay every `vatio run` job by that much."""

    __slots__ = ("cpu_s", "error", "exit_code", "signals_received", "status")

    def __init__(
        self,
        exit_code: int,
        status: str,  # completed, failed, interrupted, killed
        error: str | None = None,
        signals_received: list[int] | None = None,
        cpu_s: float | None = None,  # CPU s of the child and what it reaped (wait4), if known
    ) -> None:
        self.exit_code = exit_code
        self.status = status
        self.error = error
        self.signals_received = [] if signals_received is None else signals_received
        self.cpu_s = cpu_s

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Outcome) and self._fields() == other._fields()

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"Outcome({shown})"


class MeteredPopen(subprocess.Popen):
    """A Popen that keeps the reaped child's CPU time (wait4's rusage): exact even for a job
    too short for any sample to see it."""

    cpu_s: float | None = None

    def _try_wait(self, wait_flags: int) -> tuple[int, int]:  # CPython's POSIX reaping hook
        try:
            pid, status, usage = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return (self.pid, 0)
        if pid == self.pid:
            self.cpu_s = usage.ru_utime + usage.ru_stime
        return (pid, status)


def terminal_delivers_sigint() -> bool:
    """True when Ctrl-C from this terminal already reaches a child in our process group."""
    try:
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


def spawn(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    stdout: IO[Any] | int | None = None,
    stderr: IO[Any] | int | None = None,
    new_session: bool = False,
    identity: dict[str, Any] | None = None,
) -> subprocess.Popen | Outcome:
    """Start `command` (no shell); the Outcome of a command that cannot start."""
    try:
        return MeteredPopen(
            command,
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=new_session,
            **(identity or {}),
        )
    except FileNotFoundError:
        return Outcome(127, "failed", f"command not found: {command[0]}")
    except PermissionError:
        return Outcome(126, "failed", f"permission denied: {command[0]} is not executable")
    except OSError as error:
        return Outcome(126, "failed", f"cannot execute {command[0]}: {error.strerror}")


class EarlySignals:
    """Catch stop signals between spawning a job and supervising it (vatio is still starting
    its tracker then); `supervise(..., early=...)` forwards them to the job."""

    def __init__(self) -> None:
        self.caught: list[int] = []
        self.previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            self.previous = {sig: signal.signal(sig, self._catch) for sig in FORWARDED}

    def _catch(self, signum: int, _frame: Any) -> None:
        self.caught.append(signum)

    def release(self) -> list[int]:
        caught, self.caught = self.caught, []
        return caught


def supervise(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    stdout: IO[Any] | int | None = None,
    stderr: IO[Any] | int | None = None,
    new_session: bool = False,
    timeout_s: float | None = None,
    on_spawn: Callable[[subprocess.Popen], Callable[[], None] | None] | None = None,
    identity: dict[str, Any] | None = None,
    kill_after_s: float | None = None,
    spawned: subprocess.Popen | None = None,
    early: EarlySignals | None = None,
) -> Outcome:
    """Run `command` and wait; never raises for the child's sake.

    `new_session` puts the child in its own process group (to suspend it as a
    whole); `on_spawn` may start helpers around the child and return their
    clean-up; `timeout_s` stops the child (SIGTERM, then SIGKILL) when it runs long;
    `identity` ({"user", "group", "extra_groups"}) runs it as another user.
    `kill_after_s` (like timeout(1)'s --kill-after) sends SIGKILL to a child still
    alive that long after vatio forwarded it a stop signal. `spawned` is a child already
    started with `spawn()` (then `early` holds the signals caught since, forwarded now).
    """
    if spawned is None:
        started = spawn(command, env=env, stdout=stdout, stderr=stderr,
                        new_session=new_session, identity=identity)  # fmt: skip
        if isinstance(started, Outcome):
            return started
        spawned = started
    child = spawned

    received: list[int] = []
    grace = KILL_GRACE_S if kill_after_s is None else kill_after_s
    forced: list[float] = []
    timer: list[threading.Timer] = []

    def force_kill() -> None:
        if child.poll() is None:
            forced.append(grace)
            with contextlib.suppress(ProcessLookupError):
                child.kill()

    def forward(signum: int, _frame: Any) -> None:
        received.append(signum)
        if not timer and grace > 0 and signum != signal.SIGINT:
            timer.append(threading.Timer(grace, force_kill))
            timer[0].daemon = True
            timer[0].start()
        if signum == signal.SIGINT and not new_session and terminal_delivers_sigint():
            return
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    in_main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED} if in_main else {}
    if early is not None:
        previous = early.previous or previous
        for signum in early.release():
            forward(signum, None)
    cleanup = on_spawn(child) if on_spawn else None
    timed_out = False
    try:
        try:
            returncode = child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            child.terminate()
            try:
                returncode = child.wait(timeout=KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                child.kill()
                returncode = child.wait()
    finally:
        for pending in timer:
            pending.cancel()
        if cleanup is not None:
            cleanup()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    cpu_s = getattr(child, "cpu_s", None)
    if forced:
        name = signal.Signals(next(s for s in received if s != signal.SIGINT)).name
        return Outcome(
            128 + signal.SIGKILL,
            "killed",
            f"ignored {name} for {forced[0]:g} s; killed with SIGKILL",
            received,
            cpu_s,
        )
    if timed_out:
        message = f"stopped after the {timeout_s:g} s timeout"
        return Outcome(TIMEOUT_EXIT, "killed", message, received, cpu_s)
    outcome = outcome_of(returncode, received)
    outcome.cpu_s = cpu_s
    return outcome


def outcome_of(returncode: int, received: list[int]) -> Outcome:
    """Status and exit code from how the child ended and which signals vatio got."""
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
