"""`vatio run`'s child under the tracker: plan, supervise (vatio.process), record, summarise.

The tracker starts before the child is spawned and then follows the child's
process tree only, so vatio's own process is never part of "this job"; its CPU
time is reported apart as measurement overhead. The child's exit code becomes
vatio's (128 + N when signal N killed it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from vatio.process import Outcome, supervise

__all__ = ["Outcome", "run_tracked", "supervise"]


def run_tracked(
    command: list[str],
    *,
    overrides: dict[str, Any],
    json_output: bool = False,
    json_file: Path | None = None,
    quiet: bool = False,
    greenest: dict[str, Any] | None = None,
    artifacts: list | None = None,
    kill_after_s: float | None = None,
    group: str | None = None,
) -> int:
    """Measure and record `command`; returns the exit code vatio should exit with."""
    from vatio.config import load_profile
    from vatio.measure.sampler import CHILD_LATER
    from vatio.record import RecordingTracker

    profile, sources = load_profile(overrides=overrides)
    tracker = RecordingTracker(
        command=command, profile=profile, profile_sources=sources, pid=CHILD_LATER,
        group=group or "auto",
    )  # fmt: skip
    plan = None
    if greenest is None and profile.schedule and profile.schedule.greenest:
        greenest = profile.schedule.model_dump()
    if greenest is not None:
        from vatio.cli.greenest import plan_and_wait

        plan = plan_and_wait(greenest, profile, quiet=quiet)
        if plan is None:
            return 130
        plan.attach(tracker)  # forecast and zone for the record's carbon, the plan section
    tracker.start()

    def on_spawn(child: Any) -> Any:
        tracker.attach(child.pid)
        return plan.suspender(child) if plan and plan.slots else None

    try:
        outcome = supervise(
            command,
            new_session=bool(plan and plan.slots),
            on_spawn=on_spawn,
            kill_after_s=kill_after_s,
        )
    except BaseException as error:  # vatio itself failed: still record the run
        tracker.stop("failed", error=f"vatio: {type(error).__name__}: {error}")
        raise
    if outcome.exit_code in (126, 127) and outcome.status == "failed" and outcome.error:
        sys.stderr.write(f"vatio: {outcome.error}\n")
    survivors = tracker.sampler.tree.survivors() if tracker.sampler and tracker.sampler.tree else []
    if survivors:
        tracker.warn(
            f"{len(survivors)} process(es) outlived the job (pid "
            f"{', '.join(map(str, survivors))}); their energy after the job ended is not counted"
        )
    for path in artifacts or []:
        if path.is_file():
            tracker.add_artifact(path)
        else:
            tracker.warn(f"artifact {path} was not written; not recorded")
    result = tracker.stop(outcome.status, exit_code=outcome.exit_code, error=outcome.error)
    record = result.to_dict() | {
        "store": tracker.recorder.context.store_url and _shown(tracker.store_url),
        "store_error": tracker.store_error,
        "unsaved": tracker.outcome.unsaved if tracker.outcome else [],
    }
    if json_file is not None:
        from vatio.cli.output import write_json_file

        write_json_file(json_file, record)
    if json_output:
        from vatio.cli.output import print_json

        print_json(record)
    elif not quiet:
        from rich.console import Console

        from vatio.cli.summary import render_summary

        render_summary(record, Console(stderr=True))
    return outcome.exit_code


def _shown(url: str | None) -> str | None:
    from vatio.redact import redact_url

    return redact_url(url)
