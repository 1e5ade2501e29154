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


class StudyRecord:
    """The study's own row in the store: running while the study runs, then its summary."""

    def __init__(self, study_id: str, spec: Any, profile: Profile, cwd: Path) -> None:
        self.error: str | None = None
        self.store = None
        self.result = RunResult(
            id=study_id,
            name=spec.name or "scale study",
            command=spec.command,
            status="running",
            started_at=utc_iso(time.time()),
            profile={**profile.model_dump(mode="json"), "scale": None},
        )
        self._t0 = time.monotonic()
        if spec.nodes.node_rank != 0 or not spec.store:
            return
        try:
            from vatio.store.location import resolve_url
            from vatio.store.runstore import RunStore

            self.store = RunStore(resolve_url(profile.store, cwd))
            if _exists(self.store, study_id):
                raise InputError(
                    f"The study id {study_id!r} is already in the store.",
                    "Give each study a new --study (or --rdzv-id).",
                )
            self.store.begin(self.result, kind="scale-study")
        except InputError:
            raise
        except Exception as error:
            self.error = str(error)
            self.store = None

    def finish(self, study: dict[str, Any], status: str | None) -> None:
        if self.store is None:
            return
        failed = all(r["status"] != "completed" for r in study["configs"])
        self.result.status = status or ("failed" if failed else "completed")
        self.result.ended_at = utc_iso(time.time())
        self.result.duration_s = time.monotonic() - self._t0
        assert self.result.profile is not None
        self.result.profile["scale"] = study
        try:
            self.store.finish(self.result)
        except Exception as error:
            self.error = str(error)


def _exists(store: Any, run_id: str) -> bool:
    from vatio.errors import UnknownRunError

    try:
        return store.get(run_id).get("id") == run_id
    except UnknownRunError:
        return False
