"""The `power_sweep` section of a sweep's record: settings, rows, the choice and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vatio.power.choice import Choice, Row
from vatio.power.plan import Plan
from vatio.power.settings import Setting, to_profile

if TYPE_CHECKING:
    from vatio.power.sweep import SweepOptions


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
