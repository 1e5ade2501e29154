"""`vatio power apply`: put a chosen setting in force, always restorably.

Without a command, machine knobs stay changed (a persistent restore file keeps
the originals) until `vatio power restore`. With a command, the setting holds
while it runs, threads and cores included, and everything is restored when it
ends, however it ends.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from vatio.errors import InputError
from vatio.power.common import Knob, KnobUnavailable, format_value
from vatio.power.discovery import KnobSet
from vatio.power.plan import select_knobs
from vatio.power.restore import PowerSession
from vatio.power.settings import JOB_KEYS, KEYS


@dataclass
class Change:
    knob: Knob
    before: Any
    after: Any

    def line(self) -> str:
        before = format_value(self.before, self.knob.unit)
        return f"{self.knob.label}: {before} -> {format_value(self.after, self.knob.unit)}"


@dataclass
class ApplyPlan:
    changes: list[Change] = field(default_factory=list)
    threads: int | None = None
    cores: int | None = None

    def machine(self) -> list[Change]:
        return [c for c in self.changes if c.knob.key not in JOB_KEYS]


def plan_apply(table: dict[str, Any], knobset: KnobSet) -> ApplyPlan:
    """Check every value against its knob before anything changes."""
    gpus = table.get("gpus")
    plan = ApplyPlan(threads=table.get("threads"), cores=table.get("cores"))
    for key in KEYS:
        value = table.get(key)
        if value is None or key in JOB_KEYS:
            continue
        knobs = select_knobs(knobset, key, gpus)
        if not knobs:
            raise InputError(f"No knob for {key} here.", "`vatio power show` lists the knobs.")
        for knob in knobs:
            status = knob.status()
            if not (status.readable and status.writable):
                raise KnobUnavailable(
                    f"{knob.label} cannot be changed here: {status.reason}", status.fix
                )
            wanted = knob.check_value(value)
            if wanted != status.value:  # already so: nothing to change or restore
                plan.changes.append(Change(knob, status.value, wanted))
    for key in JOB_KEYS:
        value = table.get(key)
        if value is not None:
            knob = knobset.with_key(key)[0]
            plan.changes.append(Change(knob, None, knob.check_value(value)))
    return plan


def apply_persistent(plan: ApplyPlan, command: list[str], directory: Any = None) -> PowerSession:
    """Change the machine knobs and keep them (restore file marked persistent)."""
    session = PowerSession(
        [c.knob for c in plan.machine()], persistent=True, command=command, directory=directory
    )
    with session:
        for change in plan.machine():
            session.set(change.knob, change.after)
    return session


def run_with(plan: ApplyPlan, command: list[str], directory: Any = None) -> tuple[Any, list[str]]:
    """Run `command` under the setting; returns (outcome, restore lines)."""
    from vatio.power.cores import pick_cpus, thread_env
    from vatio.power.identity import job_identity
    from vatio.process import supervise

    identity, identity_env = job_identity()
    session = PowerSession([c.knob for c in plan.machine()], command=command, directory=directory)
    with session:
        for change in plan.machine():
            session.set(change.knob, change.after)
        env = thread_env(plan.threads or plan.cores, {**os.environ, **identity_env})
        before = (
            os.sched_getaffinity(0) if plan.cores and hasattr(os, "sched_setaffinity") else None
        )
        if before is not None:
            os.sched_setaffinity(0, pick_cpus(int(plan.cores or 0)))
        try:
            outcome = supervise(command, env=env, identity=identity)
        finally:
            if before is not None:
                os.sched_setaffinity(0, before)
        lines = session.close()
    return outcome, lines
