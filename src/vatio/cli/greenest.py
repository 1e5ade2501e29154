"""`vatio run --greenest`: plan the cleanest window, wait for it, suspend in dirty slots."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from vatio.config import Profile
from vatio.errors import InputError


@dataclass
class GreenestPlan:
    """The chosen start (and chunks, when interruptible) and what goes in the run record."""

    start: datetime
    slots: Any | None
    record: dict[str, Any]
    #: the forecast planned on, when it came from a file or a provider (the run's carbon
    #: then uses it for the hours it covers); None for the bundled typical year
    forecast: Any = None

    def suspender(self, child: subprocess.Popen) -> Callable[[], None]:
        from vatio.schedule.runner import SuspendController

        controller = SuspendController(child, self.slots).start()

        def finish() -> None:
            controller.stop()
            self.record["suspended_s"] = round(controller.suspended_s, 3)

        return finish


def make_plan(options: dict[str, Any], profile: Profile) -> tuple[GreenestPlan, list[str]]:
    from vatio.carbon.providers import series_for_zone
    from vatio.cli.schedule import parse_when, provider_key
    from vatio.schedule import best_window, cheapest_slots
    from vatio.units import parse_duration

    if not profile.zone:
        raise InputError(
            "--greenest needs a grid zone.", "Use --zone ES, VATIO_ZONE, or zone in vatio.toml."
        )
    if not options.get("duration"):
        raise InputError(
            "--greenest needs the job's expected length.", "Add --duration, e.g. --duration 2h."
        )
    duration_s = parse_duration(options["duration"], what="duration")
    earliest = datetime.now(UTC).replace(microsecond=0)
    if options.get("deadline") and options.get("within"):
        raise InputError("Give either --deadline or --within, not both.")
    if options.get("deadline"):
        deadline = parse_when(options["deadline"], what="deadline")
    else:
        within = parse_duration(options.get("within") or "24h", what="--within")
        deadline = earliest + timedelta(seconds=within)
    sourced = series_for_zone(
        profile.zone,
        earliest,
        deadline,
        kind=profile.intensity,
        forecast=options.get("forecast"),
        provider=options.get("provider") or profile.provider,
        key=provider_key(profile),
        timeout=profile.provider_timeout,
    )
    notes = list(sourced.notes)
    planned_on = (
        sourced.series
        if (options.get("forecast") or options.get("provider") or profile.provider)
        and not sourced.fallback
        else None
    )
    if options.get("interruptible"):
        min_chunk = options.get("min_chunk")
        min_chunk_s = parse_duration(min_chunk, what="--min-chunk") if min_chunk else None
        slots = cheapest_slots(sourced.series, duration_s, earliest, deadline, min_chunk_s)
        record = {"mode": "interruptible", **slots.to_dict()}
        plan = GreenestPlan(slots.start, slots, _jsonable(record) | {"notes": notes}, planned_on)
        return plan, notes
    window = best_window(sourced.series, duration_s, earliest, deadline)
    record = {"mode": "window", **window.to_dict()}
    plan = GreenestPlan(window.start, None, _jsonable(record) | {"notes": notes}, planned_on)
    return plan, notes


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(data, default=str))


def plan_and_wait(options: dict[str, Any], profile: Profile, *, quiet: bool) -> GreenestPlan | None:
    """Plan, say so, and wait for the start; None when the user aborted the wait."""
    from vatio.schedule.runner import wait_until

    plan, notes = make_plan(options, profile)
    if not quiet:
        record = plan.record
        start = plan.start.astimezone().strftime("%Y-%m-%d %H:%M %Z")
        best, now = record["mean_intensity_gco2e_per_kwh"], record["now_intensity_gco2e_per_kwh"]
        sys.stderr.write(
            f"vatio: greenest start {start}: {best:.0f} gCO2e/kWh vs {now:.0f} now "
            f"({record['savings_pct']:.1f}% less)\n"
        )
        if plan.slots is not None:
            sys.stderr.write(
                f"vatio: interruptible plan of {len(plan.slots.chunks)} chunk(s); the job is "
                "suspended (SIGSTOP) between them and keeps its memory meanwhile\n"
            )
        for note in notes:
            sys.stderr.write(f"vatio: {note}\n")
    if not wait_until(plan.start, progress=not quiet and sys.stderr.isatty()):
        sys.stderr.write("vatio: aborted while waiting; the job was not started\n")
        return None
    return plan
