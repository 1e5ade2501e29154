"""`vatio run --greenest`: plan the cleanest window, wait for it, suspend in dirty slots."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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
    #: the zone the forecast file names, used for the record when the profile has none
    zone: str | None = None

    def attach(self, tracker: Any) -> None:
        """Hand the run's record what the plan knows, before the run starts.

        The forecast prices the hours it covers (carbon basis "forecast"; other
        hours use the bundled data, as for any run); the zone a forecast file
        names becomes the run's zone when none was given; the plan is stored as
        the record's `schedule` section.
        """
        tracker.context.forecast = self.forecast
        if tracker.context.zone is None and self.zone:
            from vatio.carbon.zones import resolve_zone

            tracker.context.zone = resolve_zone(self.zone)
            tracker.context.profile.zone = self.zone
            tracker.context.profile_sources["zone"] = self.record.get("source", "the forecast")
        tracker.on_finish(lambda _result: tracker.set_extension("schedule", self.record))

    def suspender(self, child: subprocess.Popen) -> Callable[[], None]:
        from vatio.schedule.runner import SuspendController

        controller = SuspendController(child, self.slots).start()

        def finish() -> None:
            controller.stop()
            self.record["suspended_s"] = round(controller.suspended_s, 3)

        return finish


def make_plan(
    options: dict[str, Any], profile: Profile, *, now: datetime | None = None
) -> tuple[GreenestPlan, list[str]]:
    """Plan a `--greenest` run with the same checks and defaults as `vatio schedule`."""
    from vatio.carbon.forecast import NO_ZONE
    from vatio.carbon.providers import series_for_zone
    from vatio.cli.schedule import provider_key
    from vatio.schedule import best_window, cheapest_slots
    from vatio.schedule.request import check_coverage, plan_request

    forecast = options.get("forecast")
    if not profile.zone and not forecast:
        raise InputError(
            "--greenest needs a grid zone.", "Use --zone ES, VATIO_ZONE, or zone in vatio.toml."
        )
    if not options.get("duration"):
        raise InputError(
            "--greenest needs the job's expected length.", "Add --duration, e.g. --duration 2h."
        )
    request = plan_request(
        options["duration"],
        deadline=options.get("deadline"),
        within=options.get("within"),
        min_chunk=options.get("min_chunk") if options.get("interruptible") else None,
        now=now,
    )
    provider = None if forecast else options.get("provider") or profile.provider
    sourced = series_for_zone(
        profile.zone or None,
        request.earliest,
        request.deadline,
        kind=profile.intensity,
        forecast=forecast,
        provider=provider,
        key=provider_key(profile),
        timeout=profile.provider_timeout,
        zone_from="--zone or the profile",
    )
    if forecast:
        check_coverage(request, sourced.series, f"the {sourced.series.source}")
    notes = list(sourced.notes)
    planned_on = sourced.series if (forecast or provider) and not sourced.fallback else None
    zone = sourced.series.zone if forecast and sourced.series.zone != NO_ZONE else None
    if forecast and zone is None:
        notes.append("Without a zone the run's record has energy but no carbon.")
    span = (sourced.series, request.duration_s, request.earliest, request.deadline)
    if options.get("interruptible"):
        slots = cheapest_slots(*span, request.min_chunk_s)
        record = {"mode": "interruptible", **slots.to_dict()}
        plan = GreenestPlan(
            slots.start, slots, _jsonable(record) | {"notes": notes}, planned_on, zone
        )
        return plan, notes
    window = best_window(*span)
    record = {"mode": "window", **window.to_dict()}
    plan = GreenestPlan(window.start, None, _jsonable(record) | {"notes": notes}, planned_on, zone)
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
