"""Settings applied to a job while it runs: the machine's knobs moved one change at a time,
and vatio's side of `vatio.power.step()` (windows of steps, each at one setting).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from vatio.errors import VatioError
from vatio.power.channel import Connection
from vatio.power.choice import Row, Sample
from vatio.power.cores import allowed_cpus, pick_cpus, set_affinity
from vatio.power.plan import Plan
from vatio.power.restore import PowerSession
from vatio.power.settings import Setting

#: a window cancelled more often than this (its setting broke the job's steps) is dropped
MAX_CANCELS = 3
Event = Callable[[str, dict[str, Any]], None]


class Applier:
    """Moves the machine from setting to setting, writing only what changes."""

    def __init__(self, session: PowerSession | None, plan: Plan) -> None:
        self.session, self.plan = session, plan
        self.current = dict(plan.defaults)

    def apply(self, setting: Setting) -> tuple[int | None, int | None]:
        """Machine knobs now; returns (threads, cores) for the job."""
        machine = [
            (key, k) for key, knobs in self.plan.knobs.items() for k in knobs if k.scope != "job"
        ]
        if setting.get("cpu_governor") == "performance":  # the kernel refuses EPP under it
            machine.sort(key=lambda item: item[0] != "cpu_epp")
        for key, knob in machine:
            wanted = setting.get(key)
            if wanted is None:
                wanted = self.plan.defaults[knob.ident]
            if self.current.get(knob.ident) == wanted:
                continue
            assert self.session is not None
            self.session.set(knob, wanted)
            self.current[knob.ident] = wanted
        return setting.get("threads"), setting.get("cores")


def _cpus_for(cores: int | None) -> list[int]:
    return pick_cpus(cores) if cores else allowed_cpus()


def _tree(pid: int) -> list[int]:
    import psutil

    try:
        root = psutil.Process(pid)
        return [pid, *(c.pid for c in root.children(recursive=True))]
    except psutil.Error:
        return []


class StepController:
    """vatio's side of `vatio.power.step()`: windows of steps, each at one setting."""

    def __init__(
        self,
        applier: Applier,
        meter: Any,
        windows: list[tuple[int, int]],
        rows: list[Row],
        *,
        steps: int,
        warmup: int,
        pick: Callable[[], int | None],
        clock: Callable[[], float] = time.monotonic,
        on_event: Event | None = None,
        child_pid: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.applier, self.meter, self.rows = applier, meter, rows
        self.queue = list(windows)
        self.steps, self.warmup = steps, warmup
        self.pick, self.clock = pick, clock
        self.notify = on_event or (lambda *_: None)
        self.child_pid = child_pid
        self.phase = "idle"
        self.window: tuple[int, int] | None = None
        self.chosen: int | None = None
        self.cancels: dict[tuple[int, int], int] = {}
        self.total_steps = 0
        self.total_samples = 0.0
        self.connected = False
        self.error: str | None = None
        self.notes: list[str] = []
        self._start: tuple[Any, float, int, float] | None = None

    # -- the protocol ----------------------------------------------------------------
    def serve(self, conn: Connection) -> None:
        """Answer the job until it exits; an error frees the job and stops profiling."""
        try:
            self._serve(conn)
        except Exception as error:  # e.g. the kernel refused a value mid-sweep
            self.error = error.message if isinstance(error, VatioError) else repr(error)
            self.notes.append(f"profiling stopped: {self.error}")
            self.phase = "failed"
            conn.send({"next": None})
            while conn.receive() is not None:  # let the job run on, counting nothing
                pass
        finally:
            conn.close()

    def _serve(self, conn: Connection) -> None:
        hello = conn.receive()
        if hello is None:
            return
        self.connected = True
        self._next(conn, hello)
        while True:
            message = conn.receive()
            if message is None:
                break
            self._count(message)
            if "exit" in message:
                break
            if "cancel" in message:
                self._cancel(conn, message)
            elif "boundary" in message:
                self._boundary(conn, message)
        if self.phase in ("warmup", "measure", "idle"):
            self._job_ended()

    def _count(self, message: dict[str, Any]) -> None:
        for key in ("boundary", "cancel", "exit"):
            if key in message:
                self.total_steps = int(message[key])
        self.total_samples = float(message.get("samples") or 0.0)

    def _next(self, conn: Connection, message: dict[str, Any]) -> None:
        if not self.queue:
            self._finish(conn)
            return
        self.window = self.queue.pop(0)
        index, rep = self.window
        threads, cores = self.applier.apply(Setting.of(self.rows[index].setting))
        pid = self.child_pid()
        if pid is not None:
            set_affinity(_tree(pid), _cpus_for(cores))
        self.notify("window", {"label": self.rows[index].label, "repeat": rep})
        threads = threads or _default_threads(cores)  # None: the job's own count
        if self.warmup > 0:
            self.phase = "warmup"
            conn.send({"next": self.warmup, "threads": threads})
        else:
            self._measure(conn, message, {"threads": threads})

    def _measure(
        self, conn: Connection, message: dict[str, Any], extra: dict[str, Any] | None = None
    ) -> None:
        self.phase = "measure"
        reply: dict[str, Any] = {"next": self.steps, **(extra or {})}
        self._start = (self.meter.mark(), self.clock(), self.total_steps, self.total_samples)
        conn.send(reply)

    def _boundary(self, conn: Connection, message: dict[str, Any]) -> None:
        if self.phase == "warmup":
            self._measure(conn, message)
            return
        if self.phase != "measure" or self._start is None or self.window is None:
            conn.send({"next": None})
            return
        mark, began, steps0, samples0 = self._start
        after, ended = self.meter.mark(), self.clock()
        energy = self.meter.energy(mark, after)
        index, rep = self.window
        row = self.rows[index]
        row.samples.append(
            Sample(
                energy.energy_j,
                energy.low_j,
                energy.high_j,
                ended - began,
                self.total_steps - steps0,
                self.total_samples - samples0,
            )
        )
        self.notify(
            "measured",
            {
                "label": row.label,
                "repeat": rep,
                "energy_j": energy.energy_j,
                "time_s": ended - began,
            },
        )
        self._start = None
        self._next(conn, message)

    def _cancel(self, conn: Connection, message: dict[str, Any]) -> None:
        if self.window is None or self.phase not in ("warmup", "measure"):
            conn.send({"next": None})
            return
        count = self.cancels.get(self.window, 0) + 1
        self.cancels[self.window] = count
        label = self.rows[self.window[0]].label
        if count <= MAX_CANCELS:
            self.queue.insert(0, self.window)
        else:
            self.notes.append(f"{label}: window interrupted {count} times by pause(); skipped")
        self._start = None
        self._next(conn, message)

    def _finish(self, conn: Connection) -> None:
        self.phase = "done"
        self.chosen = self.pick()
        threads = cores = None
        if self.chosen is not None:
            threads, cores = self.applier.apply(Setting.of(self.rows[self.chosen].setting))
        else:
            threads, cores = self.applier.apply(Setting())
        pid = self.child_pid()
        if pid is not None:
            set_affinity(_tree(pid), _cpus_for(cores))
        conn.send({"next": None, "threads": threads or _default_threads(cores)})
        self.notify("chosen", {"index": self.chosen})

    def _job_ended(self) -> None:
        left = len(self.queue) + (1 if self.phase in ("warmup", "measure") else 0)
        if left:
            per = self.warmup + self.steps
            self.notes.append(
                f"the job ended after {self.total_steps} steps, before {left} window(s) of "
                f"{per} steps ({self.warmup} warm-up + {self.steps} measured) were done"
            )
        self.phase = "ended"


def _default_threads(cores: int | None) -> int | None:
    """With fewer cores than threads, a pool oversubscribes: match threads to cores."""
    return cores
