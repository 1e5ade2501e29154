"""Repeat a benchmark command under the tracker (for `vatio compare --repeat`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

#: after each run: (stop now?, a note for the progress bar)
OnResult = Callable[[list[dict[str, Any]]], tuple[bool, str | None]]


def repeat_command(
    command: list[str],
    times: int,
    *,
    store: str | None,
    zone: str | None,
    tag: str | None,
    counter: Any = None,
    on_result: OnResult | None = None,
    known_total: bool = True,
) -> list[dict[str, Any]]:
    """Run `command` up to `times` times, each recorded; the records, in order.

    Stops at the first failure (VatioError), or when `on_result` says the answer
    is clear (`--repeat auto`). A progress bar shows on a terminal (stderr).
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from vatio.compare.runner import run_repetition, tag_runs
    from vatio.config import load_profile

    profile, sources = load_profile(overrides={"store": store, "zone": zone})
    records: list[dict[str, Any]] = []
    parent: str | None = None
    store_url: str | None = None
    what = "counting instructions of" if counter else "measuring"
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    console = Console(stderr=True)  # stdout stays for the verdict (and --json)
    with Progress(
        *columns, console=console, transient=True, disable=not sys.stderr.isatty()
    ) as progress:
        task = progress.add_task(f"{what} {command[0]}", total=times)
        for index in range(1, times + 1):
            result, url = run_repetition(
                command,
                index=index,
                of=times if known_total else None,
                profile=profile,
                sources=sources,
                parent=parent,
                counter=counter,
            )
            store_url = store_url or url
            records.append(result.to_dict())
            parent = parent or result.id
            progress.advance(task)
            if on_result is not None:
                stop, note = on_result(records)
                if note:
                    progress.update(task, description=f"{what} {command[0]}: {note}")
                if stop:
                    break
    if tag:
        tag_runs(store_url, [r["id"] for r in records], tag)
    return records
