"""The sweep: each setting measured, repeated, compared and chosen; the machine restored.

Two ways to measure, as the job allows:
- one run per setting (default): the whole job, each time under the tracker;
- `--steps N` (Zeus-style): one run; the job calls `vatio.power.step()`, and
  vatio measures N steps per setting (after a few warm-up steps at each new
  setting), then leaves the job running at the chosen setting to its end.
Settings are visited in rounds (default, A, B, default, A, B, ...) so a slow
drift (heat, other load) spreads over all of them instead of biasing one.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vatio.config import Profile
from vatio.errors import VatioError
from vatio.power import measure
from vatio.power.channel import Channel, Connection
from vatio.power.choice import Choice, Row, Sample, decide
from vatio.power.cores import allowed_cpus, pick_cpus, set_affinity, thread_env
from vatio.power.plan import Plan
from vatio.power.restore import PowerSession
from vatio.power.settings import Setting, to_profile

MAX_CANCELS = 3
Event = Callable[[str, dict[str, Any]], None]


@dataclass
class SweepOptions:
    command: list[str]
    steps: int | None = None
    warmup_steps: int = 2
    repeat: int = 1
    max_slowdown: float | None = 0.10
    eta: float | None = None
    max_power_w: float | None = None
    scope: str = "all"
    attribution: str = "machine"
    timeout_s: float | None = None
    store: bool | str | None = None
    name: str | None = None
    #: the job's standard output goes to vatio's stderr (keeps `--json` output clean)
    job_output_to_stderr: bool = False
    #: run the job as this user (Popen user/group/extra_groups) and with these variables
    identity: dict[str, Any] | None = None
    identity_env: dict[str, str] = field(default_factory=dict)

    def job_stdout(self) -> Any:
        return sys.stderr if self.job_output_to_stderr else None


@dataclass
class SweepResult:
    section: dict[str, Any]
    rows: list[Row]
    choice: Choice
    record: dict[str, Any] = field(default_factory=dict)
    signal: int | None = None


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


# -- whole sweeps ---------------------------------------------------------------------------
def _rows(settings: list[Setting]) -> list[Row]:
    return [Row(setting.label, setting.as_dict()) for setting in settings]


def _windows(count: int, repeat: int) -> list[tuple[int, int]]:
    return [(i, r) for r in range(repeat) for i in range(count)]


def _max_power(plan: Plan, options: SweepOptions) -> tuple[float | None, str | None]:
    if options.max_power_w is not None:
        return options.max_power_w, "--max-power"
    limits = plan.knobs.get("gpu_power_limit_w") or []
    highs = []
    for knob in limits:
        try:
            highs.append(knob.allowed().get("max"))
        except VatioError:
            return None, None
    if highs and all(h is not None for h in highs):
        return float(sum(highs)), f"highest power limit × {len(highs)} GPU(s), from NVML"
    return None, None


def run_sweep(
    plan: Plan,
    options: SweepOptions,
    profile: Profile,
    sources: dict[str, str],
    *,
    on_event: Event | None = None,
    sensors: list | None = None,
    state_dir: Any = None,
) -> SweepResult:
    """Measure every setting, restore the machine, choose; never leaves a knob changed."""
    rows = _rows(plan.settings)
    max_power, max_power_source = _max_power(plan, options)

    def pick() -> int | None:
        return decide(
            rows,
            max_slowdown=options.max_slowdown,
            eta=options.eta,
            max_power_w=max_power,
            max_power_source=max_power_source,
        ).index

    notify = on_event or (lambda *_: None)
    session = PowerSession(plan.machine_knobs(), command=options.command, directory=state_dir)
    record: dict[str, Any] = {}
    signal_seen: int | None = None
    status = "completed"
    notes: list[str] = []
    with session:
        applier = Applier(session, plan)
        if options.steps:
            meter = measure.WindowMeter(
                profile,
                sources,
                command=options.command,
                scope=options.scope,
                attribution=options.attribution,
                store=options.store,
                name=options.name,
                sensors=sensors,
            )
            outcome, controller = _steps_mode(plan, options, applier, meter, rows, pick, notify)
            methods = {meter.methods()}
            notes += controller.notes
            if not controller.connected:
                notes.append(
                    "the job never called vatio.power.step(): nothing was profiled. Add "
                    "`import vatio.power` and `vatio.power.step(samples=batch_size)` after "
                    "each training step, or drop --steps to measure whole runs"
                )
            status = outcome.status if outcome else "failed"
            signal_seen = _signal_of(outcome)
        else:
            sweep_record = measure.SweepRecord(
                profile, options.command, options.name, store=options.store is not False
            )
            status, signal_seen, methods = _runs_mode(
                plan,
                options,
                applier,
                rows,
                profile,
                sources,
                sweep_record.id,
                notify,
                notes,
                sensors,
            )
        restored = session.close()
    choice = decide(
        rows,
        max_slowdown=options.max_slowdown,
        eta=options.eta,
        max_power_w=max_power,
        max_power_source=max_power_source,
    )
    method = "+".join(sorted(methods - {"none"})) or "none"
    if method == "none":
        notes.append(
            f"no sensor measures the '{options.scope}' devices here, so every energy is 0: "
            "use --devices all (or cpu) on a machine without that device"
        )
    section = build_section(plan, options, rows, choice, status, notes + choice.notes, restored)
    section["method"] = method
    if options.steps:
        section["record_note"] = "one run: windows of steps at each setting, then the chosen one"
        record = meter.finish(outcome, section)
    else:
        record = sweep_record.finish(status, section)
    section["record"] = record
    return SweepResult(section, rows, choice, record, signal_seen)


def _signal_of(outcome: Any) -> int | None:
    if outcome is None:
        return None
    return outcome.signals_received[-1] if outcome.signals_received else None


def _steps_mode(
    plan: Plan,
    options: SweepOptions,
    applier: Applier,
    meter: Any,
    rows: list[Row],
    pick: Callable[[], int | None],
    notify: Event,
) -> tuple[Any, StepController]:
    from vatio.process import supervise

    assert options.steps is not None
    channel = Channel()
    child_ref: dict[str, Any] = {}
    controller = StepController(
        applier,
        meter,
        _windows(len(rows), options.repeat),
        rows,
        steps=options.steps,
        warmup=options.warmup_steps,
        pick=pick,
        on_event=notify,
        child_pid=lambda: child_ref["child"].pid if "child" in child_ref else None,
    )

    def spawned(child: Any) -> Callable[[], None]:
        child_ref["child"] = child
        meter.attach(child.pid)

        def serve() -> None:
            conn = channel.accept(lambda: child.poll() is None)
            if conn is not None:
                controller.serve(conn)

        thread = threading.Thread(target=serve, name="vatio-power-steps", daemon=True)
        thread.start()
        return lambda: thread.join(timeout=30)

    meter.start()
    outcome = None
    channel.grant(options.identity)
    try:
        env = {**os.environ, **options.identity_env, **channel.env()}
        outcome = supervise(
            options.command,
            env=env,
            timeout_s=options.timeout_s,
            on_spawn=spawned,
            stdout=options.job_stdout(),
            identity=options.identity,
        )
    finally:
        channel.close()
    return outcome, controller


def _runs_mode(
    plan: Plan,
    options: SweepOptions,
    applier: Applier,
    rows: list[Row],
    profile: Profile,
    sources: dict[str, str],
    sweep_id: str,
    notify: Event,
    notes: list[str],
    sensors: list | None,
) -> tuple[str, int | None, set[str]]:
    methods: set[str] = set()
    for index, rep in _windows(len(rows), options.repeat):
        row = rows[index]
        threads, cores = applier.apply(Setting.of(row.setting))
        notify("window", {"label": row.label, "repeat": rep})
        counts: dict[str, float] = {}
        channel = Channel()
        channel.grant(options.identity)
        base = {**os.environ, **options.identity_env, **channel.env()}
        env = thread_env(threads or _default_threads(cores), base)

        def spawned(
            child: Any, channel: Channel = channel, counts: dict = counts
        ) -> Callable[[], None]:
            def serve() -> None:
                conn = channel.accept(lambda: child.poll() is None)
                if conn is None:
                    return
                if conn.receive() is None:
                    return
                conn.send({"next": None})
                while (message := conn.receive()) is not None:
                    for key in ("boundary", "cancel", "exit"):
                        if key in message:
                            counts["steps"] = float(message[key])
                    counts["samples"] = float(message.get("samples") or 0.0)
                conn.close()

            thread = threading.Thread(target=serve, name="vatio-power-count", daemon=True)
            thread.start()
            return lambda: thread.join(timeout=10)

        def pin(cores: int | None = cores) -> Callable[[], None]:
            if not cores or not hasattr(os, "sched_setaffinity"):
                return lambda: None
            before = os.sched_getaffinity(0)
            os.sched_setaffinity(0, pick_cpus(cores))
            return lambda: os.sched_setaffinity(0, before)

        try:
            run = measure.run_measured(
                options.command,
                env=env,
                profile=profile,
                sources=sources,
                parent_id=sweep_id,
                name=f"{options.name or 'power sweep'} · {row.label} #{rep + 1}",
                scope=options.scope,
                attribution=options.attribution,
                store=options.store,
                timeout_s=options.timeout_s,
                sensors=sensors,
                on_spawn=spawned,
                before_spawn=pin,
                stdout=options.job_stdout(),
                identity=options.identity,
                setting=row.setting,
            )
        finally:
            channel.close()
        row.run_ids.append(run.run_id)
        methods.add(run.energy.method)
        if run.outcome.status != "completed":
            row.missing = f"run failed: {run.outcome.error or run.outcome.status}"
            notify("failed", {"label": row.label, "repeat": rep, "error": row.missing})
            if run.outcome.signals_received:
                return run.outcome.status, run.outcome.signals_received[-1], methods
            if index == 0:
                notes.append(
                    f"the job failed at the default setting ({row.missing}); sweep stopped"
                )
                return "failed", None, methods
            continue
        row.samples.append(
            Sample(
                run.energy.energy_j,
                run.energy.low_j,
                run.energy.high_j,
                run.energy.duration_s,
                1.0,
                counts.get("samples", 0.0),
            )
        )
        notify(
            "measured",
            {
                "label": row.label,
                "repeat": rep,
                "energy_j": run.energy.energy_j,
                "time_s": run.energy.duration_s,
            },
        )
    return "completed", None, methods


def build_section(
    plan: Plan,
    options: SweepOptions,
    rows: list[Row],
    choice: Choice,
    status: str,
    notes: list[str],
    restored: list[str],
) -> dict[str, Any]:
    unit = "step" if options.steps else "run"
    chosen = rows[choice.index] if choice.index is not None else None
    return {
        "version": 1,
        "mode": "steps" if options.steps else "runs",
        "unit": unit,
        "command": options.command,
        "status": status,
        "steps": options.steps,
        "warmup_steps": options.warmup_steps if options.steps else None,
        "repeat": options.repeat,
        "scope": options.scope,
        "attribution": options.attribution,
        "max_slowdown": options.max_slowdown,
        "eta": options.eta,
        "gpus": plan.gpus,
        "defaults": plan.defaults,
        "settings": [_row_dict(r) for r in rows],
        "choice": {
            "index": choice.index,
            "label": chosen.label if chosen else None,
            "setting": chosen.setting if chosen else None,
            "rule": choice.rule,
            "reason": choice.reason,
            "max_power_w": choice.max_power_w,
            "max_power_source": choice.max_power_source,
            "saving": chosen.saving if chosen else None,
            "slowdown": chosen.slowdown if chosen else None,
            "profile": to_profile(Setting.of(chosen.setting), plan.gpus or None)
            if chosen
            else None,
        },
        "notes": notes,
        "restored": restored,
    }


def _row_dict(row: Row) -> dict[str, Any]:
    return {
        "label": row.label,
        "setting": row.setting,
        "energy_per_unit_j": row.energy_per_unit_j,
        "energy_low_per_unit_j": row.low_per_unit_j,
        "energy_high_per_unit_j": row.high_per_unit_j,
        "time_per_unit_s": row.time_per_unit_s,
        "energy_per_sample_j": row.energy_per_sample_j,
        "power_w": row.power_w,
        "slowdown": row.slowdown,
        "saving": row.saving,
        "feasible": row.feasible,
        "pareto": row.pareto,
        "cost": row.cost,
        "spread_j": list(row.spread_j) if row.spread_j else None,
        "missing": row.missing,
        "run_ids": list(row.run_ids),
        "repeats": [
            {
                "energy_j": s.energy_j,
                "energy_low_j": s.low_j,
                "energy_high_j": s.high_j,
                "time_s": s.time_s,
                "units": s.units,
                "samples": s.samples,
            }
            for s in row.samples
        ],
    }
