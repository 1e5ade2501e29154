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

__all__ = ["NeedsOwnProcess", "Outcome", "run_tracked", "supervise"]


class NeedsOwnProcess(Exception):
    """A run the resident recorder hands back to `vatio run`'s own process (it waits for a
    green window or measures idle power before the job starts)."""


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
    launcher: Any = None,
) -> int:
    """Measure and record `command`; returns the exit code vatio should exit with.

    A plain run is spawned first: the profile (validated, from the cache when this input
    was seen before), the zone and the store are checked, an origin instant is taken, the
    job starts, and only then is the tracker imported and started, counting from that
    instant. A run that waits for a green window, or measures idle power first, starts
    its tracker before the job as it must. `launcher` (vatio.cli.launchers) starts and
    waits for the job: here by default, or in the resident recorder's client process.
    """
    from vatio.profile_cache import cached_profile

    if group:  # a bad group id is refused before the job starts
        from vatio.record.multinode import check_group

        group = check_group(group, "--group") if group != "auto" else group
    profile, sources = cached_profile(overrides)
    wants_plan = greenest is not None or bool(profile.schedule and profile.schedule.greenest)
    if wants_plan and not hasattr(profile, "model_fields"):
        from vatio.config import load_profile  # planning reads every setting (provider keys)

        profile, sources = load_profile(overrides=overrides)
    if wants_plan or profile.idle_baseline > 0:
        if launcher is not None and not launcher.plans:
            raise NeedsOwnProcess("a run that plans or measures idle power first")
        tracker, _plan, outcome = _tracker_first(command, profile, sources, greenest, quiet,
                                                 kill_after_s, group)  # fmt: skip
        if tracker is None:
            return 130
    else:
        tracker, outcome = _job_first(command, profile, sources, kill_after_s, group, launcher)
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
        from vatio.cli.summary import write_summary

        write_summary(record, sys.stderr)
    return outcome.exit_code


def _job_first(command, profile, sources, kill_after_s, group=None, launcher=None):
    """Check what can refuse the run, take the origin instant, spawn, then measure."""
    from vatio.store.location import resolve_url

    if profile.zone:  # the zone tables load only when a zone is set (~12 ms before the job)
        from vatio.record.context import check_zone

        check_zone(profile, sources)
    resolve_url(profile.store)  # a store path that cannot be used: before the job
    if launcher is None:
        from vatio.cli.launchers import LocalLauncher

        launcher = LocalLauncher()
    origin, started = launcher.start(command, kill_after_s)
    from vatio.measure.sampler import CHILD_LATER
    from vatio.record.tracker import RecordingTracker

    tracker = RecordingTracker(
        command=command, profile=profile, profile_sources=sources, pid=CHILD_LATER,
        group=group or "auto",  # a rank of torchrun/Slurm/MPI: a part of its job
    )  # fmt: skip
    tracker.start(origin, background=False)
    if isinstance(started, Outcome):  # the command could not start: recorded as failed
        launcher.not_started()
        tracker.start_background()
        return tracker, started
    tracker.attach(started.pid)
    tracker.start_background()
    try:
        outcome = launcher.wait(command, started, kill_after_s)
    except BaseException as error:  # vatio itself failed: still record the run
        tracker.stop("failed", error=f"vatio: {type(error).__name__}: {error}")
        raise
    tracker.sampler.settle_tree(outcome.cpu_s)
    if launcher.client_cpu_s:  # the resident recorder's client: vatio's work too
        tracker.sampler.own_cpu.add_children(launcher.client_cpu_s)
    return tracker, outcome


def _tracker_first(command, profile, sources, greenest, quiet, kill_after_s, group=None):
    """Plan (and wait for) a green window or measure idle power, then start the job."""
    from vatio.measure.sampler import CHILD_LATER
    from vatio.record.tracker import RecordingTracker

    tracker = RecordingTracker(
        command=command, profile=profile, profile_sources=sources, pid=CHILD_LATER,
        group=group or "auto",  # a rank of torchrun/Slurm/MPI: a part of its job
    )  # fmt: skip
    plan = None
    if greenest is None and profile.schedule and profile.schedule.greenest:
        greenest = profile.schedule.model_dump()
    if greenest is not None:
        from vatio.cli.greenest import plan_and_wait

        plan = plan_and_wait(greenest, profile, quiet=quiet)
        if plan is None:
            return None, None, None
        plan.attach(tracker)  # forecast and zone for the record's carbon, the plan section
    tracker.start(background=False)

    def on_spawn(child: Any) -> Any:
        tracker.attach(child.pid)
        tracker.start_background()  # after the spawn: it must not delay the job
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
    if tracker.sampler is not None:
        tracker.sampler.settle_tree(outcome.cpu_s)
    return tracker, plan, outcome


def _shown(url: str | None) -> str | None:
    from vatio.redact import redact_url

    return redact_url(url)
