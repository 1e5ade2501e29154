"""What a sweep will touch: the knobs behind each setting key, their current values, checks.

Everything that can be checked is checked before the job starts: that each
knob exists, can be read and written here (with the exact fix when not), and
that every value is in its allowed range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vatio.errors import InputError
from vatio.power.common import JOB, Knob, KnobUnavailable, format_value
from vatio.power.discovery import KnobSet
from vatio.power.settings import JOB_KEYS, Setting


@dataclass
class Plan:
    settings: list[Setting]
    knobs: dict[str, list[Knob]]  # setting key -> the knobs it sets (one per GPU for GPU keys)
    defaults: dict[str, Any]  # knob ident -> value before vatio changed anything
    gpus: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def machine_knobs(self) -> list[Knob]:
        return [k for key, knobs in self.knobs.items() if key not in JOB_KEYS for k in knobs]

    def changes(self, setting: Setting) -> list[str]:
        """Human lines: what applying `setting` would change, from the defaults."""
        lines = []
        for key, knobs in self.knobs.items():
            for knob in knobs:
                new = setting.get(key)
                old = self.defaults.get(knob.ident)
                if new is None or new == old:
                    continue
                before, after = format_value(old, knob.unit), format_value(new, knob.unit)
                lines.append(f"{knob.label}: {before} -> {after}")
        return lines


def select_knobs(knobset: KnobSet, key: str, gpus: list[int] | None) -> list[Knob]:
    knobs = knobset.with_key(key)
    if key.startswith("gpu_") and gpus is not None:
        knobs = [k for k in knobs if int(k.target.split(":")[1]) in gpus]
    return knobs


def make_plan(settings: list[Setting], knobset: KnobSet, gpus: list[int] | None = None) -> Plan:
    """Check every knob the settings use; raise KnobUnavailable/InputError naming the fix."""
    keys = [k for k in dict.fromkeys(key for s in settings for key, _ in s.values)]
    plan = Plan(settings, {}, {}, notes=list(knobset.notes))
    for key in keys:
        knobs = select_knobs(knobset, key, gpus)
        if not knobs:
            where = f"GPU(s) {gpus}" if key.startswith("gpu_") and gpus else "this machine"
            raise KnobUnavailable(
                f"No knob for {key} on {where}.",
                "`vatio power show` lists what can be tuned here.",
            )
        for knob in knobs:
            status = knob.status()
            if not status.readable or (knob.scope != JOB and not status.writable):
                raise KnobUnavailable(
                    f"{knob.label} cannot be changed here: {status.reason}", status.fix
                )
            plan.defaults[knob.ident] = status.value
            for setting in settings:
                value = setting.get(key)
                if value is not None:
                    knob.check_value(value)
        plan.knobs[key] = knobs
    plan.gpus = sorted(
        {
            int(k.target.split(":")[1])
            for ks in plan.knobs.values()
            for k in ks
            if k.target.startswith("gpu:")
        }
    )
    return plan


def check_repeat_and_steps(repeat: int, steps: int | None, warmup: int) -> None:
    if repeat < 1:
        raise InputError("--repeat must be at least 1.")
    if steps is not None and steps < 1:
        raise InputError(
            "--steps must be at least 1.", "Give the steps per window, e.g. --steps 50."
        )
    if warmup < 0:
        raise InputError("--warmup-steps must not be negative.")
