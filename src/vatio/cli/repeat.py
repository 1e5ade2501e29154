"""Repeat a benchmark command under the tracker (for `vatio compare --repeat`)."""

from __future__ import annotations

import sys


def repeat_command(
    command: list[str], times: int, *, store: str | None, zone: str | None, tag: str | None
) -> list[str]:
    """Run `command` `times` times, each recorded; stop at the first failure."""
    from rich.progress import Progress

    from vatio.cli.child import supervise
    from vatio.config import load_profile
    from vatio.errors import VatioError
    from vatio.measure.sampler import CHILD_LATER
    from vatio.record import RecordingTracker

    profile, sources = load_profile(overrides={"store": store, "zone": zone})
    ids: list[str] = []
    parent: str | None = None
    store_url: str | None = None
    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task(f"measuring {command[0]}", total=times)
        for index in range(times):
            tracker = RecordingTracker(
                f"repeat {index + 1}/{times}",
                command=command,
                profile=profile,
                profile_sources=sources,
                kind="benchmark",
                parent_id=parent,
                pid=CHILD_LATER,
            )
            tracker.set_extension(
                "compare", {"role": "repetition", "index": index + 1, "of": times, "group": parent}
            )
            tracker.start()
            outcome = supervise(command, on_spawn=lambda child, t=tracker: t.attach(child.pid))
            result = tracker.stop(outcome.status, exit_code=outcome.exit_code, error=outcome.error)
            store_url = tracker.store_url
            if outcome.status != "completed":
                raise VatioError(
                    f"Repetition {index + 1} of {' '.join(command)} ended {outcome.status} "
                    f"(exit {outcome.exit_code}).",
                    "Fix the benchmark command; a comparison needs every repetition to complete.",
                )
            ids.append(result.id)
            parent = parent or result.id
            progress.advance(task)
    if tag and store_url:
        from vatio.store.runstore import RunStore

        run_store = RunStore(store_url)
        for run_id in ids:
            run_store.tag(run_id, tag)
    return ids
