"""Who starts and waits for the job of `vatio run`: this process, or the one that spawned it.

The recording path (`vatio.cli.child`) is the same whether the job is this process's
child (`LocalLauncher`), a job the `vatio run` client spawned for the resident
recorder (`vatio.cli.resident_worker.RemoteLauncher`), or a job that client adopts back
when the resident recorder is lost mid-run (`AdoptedLauncher`). A launcher takes the
origin instant, starts the job, and later returns how it ended.
"""

from __future__ import annotations

import signal
from typing import Any

from vatio.process import EarlySignals, Outcome, spawn, supervise


class LocalLauncher:
    """The job is this process's child: spawned here, its signals forwarded from here."""

    #: CPU seconds another vatio process spent on this run (the resident client's), if any
    client_cpu_s = 0.0
    #: whether runs that wait for a green window or measure idle power first can start here
    plans = True

    def __init__(self) -> None:
        self._early: EarlySignals | None = None

    def start(self, command: list[str], kill_after_s: float | None) -> tuple[Any, Any]:
        """The origin instant, then the spawned job (or the Outcome of one that cannot start)."""
        from vatio.measure.origin import take_origin

        self._early = EarlySignals()
        origin = take_origin()
        return origin, spawn(command)

    def not_started(self) -> None:
        """The job could not start: put back the signal handlers taken before the spawn."""
        if self._early is not None:
            for sig, handler in self._early.previous.items():
                signal.signal(sig, handler)

    def wait(self, command: list[str], started: Any, kill_after_s: float | None) -> Outcome:
        return supervise(command, spawned=started, early=self._early, kill_after_s=kill_after_s)


class AdoptedLauncher(LocalLauncher):
    """A job this process spawned for the resident recorder, which was lost during the run:
    recorded here from the origin the recorder took, with what wait4 said (or says)."""

    plans = False  # the job ran already: never plan (and so never start) it again

    def __init__(self, origin: Any, started: Any, outcome: Outcome | None, client_cpu_s: float):
        super().__init__()
        self._origin = origin
        self._started = started
        self._outcome = outcome
        self.client_cpu_s = client_cpu_s

    def start(self, command: list[str], kill_after_s: float | None) -> tuple[Any, Any]:
        return self._origin, self._started

    def not_started(self) -> None:
        return None

    def wait(self, command: list[str], started: Any, kill_after_s: float | None) -> Outcome:
        if self._outcome is not None:
            return self._outcome
        return supervise(command, spawned=started, kill_after_s=kill_after_s)
