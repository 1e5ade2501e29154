"""Deferred execution: wait for a window, suspend a job in dirty slots, or hand the start
to a system scheduler (at, Slurm, cron).

A suspended job (SIGSTOP) keeps its memory, GPU memory and open files while it
waits; only its CPU time stops. Start the child in its own session
(``subprocess.Popen(..., start_new_session=True)``) so that its whole process
group is stopped and continued, and never vatio itself.
"""

from __future__ import annotations

import math
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

from vatio.errors import InputError
from vatio.schedule.windows import SlotPlan


def _now() -> datetime:
    return datetime.now(UTC)


def wait_until(
    when: datetime,
    *,
    progress: bool = True,
    clock: Callable[[], datetime] = _now,
    sleep: Callable[[float], None] = time.sleep,
    tick_s: float = 1.0,
) -> bool:
    """Block until `when` (a rich progress bar when `progress`); False if Ctrl-C aborted."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    total = max((when - clock()).total_seconds(), 0.0)
    bar = None
    try:
        if progress and total > 0:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            bar = Progress(
                TextColumn(
                    f"waiting for the greenest window ({when.astimezone():%Y-%m-%d %H:%M %Z})"
                ),
                BarColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            bar.start()
            task = bar.add_task("wait", total=total)
        while (remaining := (when - clock()).total_seconds()) > 0:
            if bar is not None:
                bar.update(task, completed=total - remaining)
            sleep(min(remaining, tick_s))
        return True
    except KeyboardInterrupt:
        return False
    finally:
        if bar is not None:
            bar.stop()


class SuspendController:
    """Sends SIGSTOP in the plan's dirty slots and SIGCONT in clean ones, from a thread.

    Before the first chunk the job is held stopped; after the plan's last chunk
    it runs to completion. `stop()` (or leaving the `with` block) always sends
    SIGCONT, so the job is never left frozen.
    """

    def __init__(
        self,
        target: int | subprocess.Popen,
        plan: SlotPlan,
        *,
        clock: Callable[[], float] = time.time,
        poll_s: float = 1.0,
    ) -> None:
        self.process = target if isinstance(target, subprocess.Popen) else None
        self.pid = target.pid if isinstance(target, subprocess.Popen) else int(target)
        self.plan = plan
        self.clock = clock
        self.poll_s = poll_s
        self.suspended = False
        self.suspended_s = 0.0
        self.events: list[tuple[float, str]] = []
        self._since = 0.0
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="vatio-suspend", daemon=True)

    def _signal(self, sig: int) -> bool:
        try:
            group = os.getpgid(self.pid)
            if group != os.getpgrp():
                os.killpg(group, sig)
            else:  # same group as vatio: signal only the child, never ourselves
                os.kill(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def _alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def _set(self, run: bool, now: float) -> None:
        if run == (not self.suspended):
            return
        if self._signal(signal.SIGCONT if run else signal.SIGSTOP):
            if run:
                self.suspended_s += now - self._since
            else:
                self._since = now
            self.suspended = not run
            self.events.append((now, "continue" if run else "stop"))

    def _loop(self) -> None:
        end_s = self.plan.end.timestamp()
        while not self._halt.is_set() and self._alive():
            now = self.clock()
            self._set(now >= end_s or self.plan.active_at(now), now)
            self._halt.wait(self.poll_s)

    def start(self) -> SuspendController:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and SIGCONT the job, whatever state it was in."""
        self._halt.set()
        if self._thread.is_alive():
            self._thread.join()
        if self.suspended:
            self.suspended_s += self.clock() - self._since
            self.events.append((self.clock(), "continue"))
        self.suspended = False
        self._signal(signal.SIGCONT)

    def __enter__(self) -> SuspendController:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


EmitKind = Literal["at", "slurm", "cron"]
EMIT_KINDS = ("at", "slurm", "cron")


def emit_command(
    kind: EmitKind,
    start: datetime,
    command: list[str],
    *,
    tz: tzinfo | None = None,
    cwd: str | None = None,
) -> str:
    """The shell text that defers `command` to `start` with `kind`.

    Times are written in the local timezone of this machine (or `tz`), which is
    what at, Slurm's --begin and cron read; the start is rounded up to the
    minute for at and cron. The cron line is one-shot only if removed after it
    runs (it would repeat next year), so a comment says so.
    """
    if not command:
        raise InputError(
            "--emit needs the command to defer after `--`.", "Example: -- python train.py"
        )
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    local = start.astimezone(tz)
    minute = local.replace(second=0, microsecond=0)
    if minute < local:
        minute += timedelta(minutes=1)
    text = shlex.join(command)
    if kind == "at":
        return f"echo {shlex.quote(text)} | at -t {minute:%Y%m%d%H%M}"
    if kind == "slurm":
        begin = local.replace(microsecond=0) + timedelta(seconds=math.ceil(local.microsecond / 1e6))
        return f"sbatch --begin={begin:%Y-%m-%dT%H:%M:%S} --wrap={shlex.quote(text)}"
    if kind == "cron":
        line = text if cwd is None else f"cd {shlex.quote(cwd)} && {text}"
        line = line.replace("%", r"\%")
        return (
            f"# vatio one-shot for {minute:%Y-%m-%d %H:%M %Z}: delete this line after it has run\n"
            f"{minute.minute} {minute.hour} {minute.day} {minute.month} * {line}"
        )
    raise InputError(
        f"Unknown scheduler {kind!r} for --emit.", f"Choose one of: {', '.join(EMIT_KINDS)}."
    )
