"""Repeat a benchmark command under the tracker (for `vatio compare --repeat`)."""

from __future__ import annotations

import sys


def repeat_command(
    command: list[str], times: int, *, store: str | None, zone: str | None, tag: str | None
) -> list[str]:
    """Run `command` `times` times, each recorded; stop at the first failure."""
    from rich.progress import Progress

    from vatio.api import Tracker
    from vatio.cli.child import supervise
    from vatio.errors import VatioError
    from vatio.store.runstore import RunStore

    ids: list[str] = []
    parent: str | None = None
    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task(f"measuring {command[0]}", total=times)
        for index in range(times):
            tracker = Tracker(
                name=f"repeat {index + 1}/{times}",
                command=command,
                store=store,
                zone=zone,
                kind="benchmark",
                parent_id=parent,
            )
            tracker.start()
            outcome = supervise(command)
            result = tracker.stop(outcome.status, exit_code=outcome.exit_code, error=outcome.error)
            if outcome.status != "completed":
                raise VatioError(
                    f"Repetition {index + 1} of {' '.join(command)} ended {outcome.status} "
                    f"(exit {outcome.exit_code}).",
                    "Fix the benchmark command; a comparison needs every repetition to complete.",
                )
            ids.append(result.id)
            parent = parent or result.id
            progress.advance(task)
    if tag:
        run_store = RunStore(tracker.store_url)  # type: ignore[arg-type]
        for run_id in ids:
            run_store.tag(run_id, tag)
    return ids
