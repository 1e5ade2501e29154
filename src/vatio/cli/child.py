"""`vatio run`'s child under the tracker: plan, supervise (vatio.process), record, summarise.

The child's exit code becomes vatio's (128 + N when signal N killed it).
"""

from __future__ import annotations

import sys
from typing import Any

from vatio.process import Outcome, supervise

__all__ = ["Outcome", "run_tracked", "supervise"]


def run_tracked(
    command: list[str],
    *,
    overrides: dict[str, Any],
    json_output: bool = False,
    quiet: bool = False,
    greenest: dict[str, Any] | None = None,
    artifacts: list | None = None,
) -> int:
    """Measure and record `command`; returns the exit code vatio should exit with."""
    from vatio.api import Tracker

    tracker = Tracker(command=command, **_tracker_args(overrides))
    plan = None
    if greenest is None and tracker.profile.schedule and tracker.profile.schedule.greenest:
        greenest = tracker.profile.schedule.model_dump()
    if greenest is not None:
        from vatio.cli.greenest import plan_and_wait

        plan = plan_and_wait(greenest, tracker.profile, quiet=quiet)
        if plan is None:
            return 130
        tracker.schedule = plan.record
    tracker.start()
    try:
        outcome = supervise(
            command,
            new_session=bool(plan and plan.slots),
            on_spawn=plan.suspender if plan and plan.slots else None,
        )
    except BaseException as error:  # vatio itself failed: still record the run
        tracker.stop("failed", error=f"vatio: {error!r}")
        raise
    if outcome.exit_code in (126, 127) and outcome.status == "failed" and outcome.error:
        sys.stderr.write(f"vatio: {outcome.error}\n")
    for path in artifacts or []:
        if path.is_file():
            tracker.add_artifact(path)
        else:
            sys.stderr.write(f"vatio: warning: artifact {path} was not written; not recorded\n")
    result = tracker.stop(outcome.status, exit_code=outcome.exit_code, error=outcome.error)
    if json_output:
        from vatio.cli.output import print_json

        print_json(
            result.to_dict() | {"store": tracker.store_url, "store_error": tracker.store_error}
        )
    elif not quiet:
        from rich.console import Console

        from vatio.cli.summary import render_summary

        render_summary(result.to_dict(), Console(stderr=True))
    return outcome.exit_code


def _tracker_args(overrides: dict[str, Any]) -> dict[str, Any]:
    return {
        "zone": overrides.get("zone"),
        "name": overrides.get("name"),
        "store": overrides.get("store"),
        "pue": overrides.get("pue"),
        "interval_s": overrides.get("interval"),
        "idle_baseline_s": overrides.get("idle_baseline"),
    }
