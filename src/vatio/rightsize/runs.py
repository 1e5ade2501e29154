"""Which recorded runs to judge: the ones named, else the most recent real jobs."""

from __future__ import annotations

from typing import Any

from vatio.errors import InputError
from vatio.rightsize.evidence import RunFit, run_fit

JOB_KINDS = ("run",)


def load_fits(store: Any, run_ids: list[str], last: int = 20) -> tuple[list[RunFit], list[str]]:
    """Evidence of the named runs (ids or prefixes), else of the `last` completed jobs.

    Returns the fits and notes (runs skipped, and why).
    """
    notes: list[str] = []
    if run_ids:
        records = [store.get(run_id) for run_id in run_ids]
    else:
        summaries = [
            s
            for s in store.list_runs(limit=None)
            if s.get("status") == "completed" and (s.get("kind") or "run") in JOB_KINDS
        ][:last]
        if not summaries:
            raise InputError(
                f"No completed run in {store.url}.",
                "Record the job first: vatio run -- python train.py",
            )
        records = [store.get(s["id"]) for s in summaries]
        notes.append(f"the {len(records)} most recent completed runs of kind 'run'")
    fits = []
    for record in records:
        if not record.get("duration_s"):
            notes.append(f"{record.get('id')}: no duration (still running?); skipped")
            continue
        fits.append(run_fit(record))
    return fits, notes
