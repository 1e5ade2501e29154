"""One repetition of a benchmark, measured and recorded (the gate's only tracker use).

Each repetition is a run of kind "benchmark"; its `compare` extension says
which repetition it was and, under `--counter instructions`, holds the
instruction count with its method (`counted:perf`, `counted:cachegrind`), so a
baseline recorded this way can be tagged and compared later like energy. The
energy of a counted run is still measured, but it is the energy of the job
*under the counter* (valgrind slows it 10-30x or more): compare instructions with
instructions, energy with energy.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from vatio.compare.counters import Counter
from vatio.errors import VatioError
from vatio.measure.result import RunResult


def run_repetition(
    command: list[str],
    *,
    index: int,
    of: int | None,
    profile: Any,
    sources: dict[str, str] | None,
    parent: str | None,
    counter: Counter | None = None,
) -> tuple[RunResult, str | None]:
    """Run `command` once under the tracker (and the counter); raise if it did not complete.

    Returns the result and the URL of the store it went to.
    """
    from vatio.measure.sampler import CHILD_LATER
    from vatio.process import supervise
    from vatio.record import RecordingTracker

    label = f"repeat {index}/{of}" if of else f"repeat {index}"
    tracker = RecordingTracker(
        label,
        command=command,
        profile=profile,
        profile_sources=sources,
        kind="benchmark",
        parent_id=parent,
        pid=CHILD_LATER,
    )
    section: dict[str, Any] = {"role": "repetition", "index": index, "of": of, "group": parent}
    with tempfile.TemporaryDirectory(prefix="vatio-count-") as workdir:
        argv = counter.wrap(command, Path(workdir)) if counter else command
        tracker.start()
        outcome = supervise(
            argv,
            env=counter.env() if counter else None,
            on_spawn=lambda child: tracker.attach(child.pid),
        )
        if counter is not None and outcome.status == "completed":
            try:
                section["counter"] = counter.section(counter.read(Path(workdir)))
            except VatioError as error:
                tracker.set_extension("compare", section)
                tracker.stop("failed", exit_code=outcome.exit_code, error=error.message)
                raise
        tracker.set_extension("compare", section)
        result = tracker.stop(outcome.status, exit_code=outcome.exit_code, error=outcome.error)
    if outcome.status != "completed":
        raise VatioError(
            f"Repetition {index} of {' '.join(command)} ended {outcome.status} "
            f"(exit {outcome.exit_code}).",
            "Fix the benchmark command; a comparison needs every repetition to complete.",
        )
    result.extensions.setdefault("compare", section)
    return result, tracker.store_url


def tag_runs(store_url: str | None, ids: list[str], tag: str) -> None:
    from vatio.store.runstore import RunStore

    if store_url:
        run_store = RunStore(store_url)
        for run_id in ids:
            run_store.tag(run_id, tag)
