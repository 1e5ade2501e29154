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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vatio.config import Profile
from vatio.errors import VatioError
from vatio.power import measure
from vatio.power.channel import Channel
from vatio.power.choice import Choice, Row, Sample, decide
from vatio.power.control import Applier, Event, StepController, _default_threads
from vatio.power.cores import pick_cpus, thread_env
from vatio.power.plan import Plan
from vatio.power.restore import PowerSession
from vatio.power.section import build_section
from vatio.power.settings import Setting


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
