"""The study's own row in the store: running while the study runs, then its summary.

Kind "scale-study"; it carries the comparison and the advice but no energy of
its own (each configuration's run has that), so summing runs never counts
anything twice.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from vatio.config import Profile
from vatio.errors import InputError
from vatio.measure.result import RunResult
from vatio.measure.tracker import utc_iso
from vatio.record.context import RecordContext
from vatio.record.recorder import Recorder


class StudyRecord:
    """The study's own row in the store: running while the study runs, then its summary."""

    def __init__(self, study_id: str, spec: Any, profile: Profile, cwd: Path) -> None:
        self.error: str | None = None
        self.recorder: Recorder | None = None
        self.result = RunResult(
            id=study_id,
            name=spec.name or "scale study",
            command=spec.command,
            status="running",
            started_at=utc_iso(time.time()),
        )
        self._t0 = time.monotonic()
        if spec.nodes.node_rank != 0 or not spec.store:
            return
        try:
            context = RecordContext.build(profile, {}, kind="scale-study", cwd=cwd)
            self.recorder = Recorder(context)
            if _exists(self.recorder.open_store(), study_id):
                raise InputError(
                    f"The study id {study_id!r} is already in the store.",
                    "Give each study a new --study (or --rdzv-id).",
                )
            self.recorder.begin(self.result)
        except InputError:
            raise
        except Exception as error:
            self.error = str(error)
            self.recorder = None

    def finish(self, study: dict[str, Any], status: str | None) -> None:
        if self.recorder is None:
            return
        failed = all(r["status"] != "completed" for r in study["configs"])
        self.result.status = status or ("failed" if failed else "completed")
        self.result.ended_at = utc_iso(time.time())
        self.result.duration_s = time.monotonic() - self._t0
        self.result.extensions["scale_study"] = study
        outcome = self.recorder.record([self.result])
        self.error = outcome.store_error


def _exists(store: Any, run_id: str) -> bool:
    from vatio.errors import UnknownRunError

    try:
        return store.get(run_id).get("id") == run_id
    except UnknownRunError:
        return False
