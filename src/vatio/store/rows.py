"""What the store writes, as plain data shared by both write paths (SQLAlchemy and sqlite3)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class RecordRow:
    """One finished record as the store keeps it: summary columns plus the exact text."""

    id: str
    kind: str
    parent_id: str | None
    record_text: str
    digest: str
    leaf_hash: bytes | None
    columns: dict[str, Any]
    artifacts: list[dict[str, Any]]
    #: why the leaf was added, when not at the run's end (e.g. "adopted" after a migration)
    leaf_note: str | None = None


@dataclass(frozen=True)
class LedgerState:
    """The signed log's size, compact range (JSON) and latest signed checkpoint."""

    size: int
    frontier: str
    checkpoint: str | None


class LogAdvance(Protocol):
    """Extends the log by some leaves and signs a checkpoint (given by the record layer)."""

    def __call__(self, state: LedgerState | None, leaves: list[bytes]) -> LedgerState: ...


def process_identity() -> dict[str, Any]:
    """This process: host (`VATIO_HOSTNAME` or the machine's), pid and its start time (so a
    reused pid is not mistaken for it)."""
    from vatio.hostname import hostname

    pid = os.getpid()
    known = _IDENTITY.get(pid)
    if known is None:  # once per process (a fork gets its own): psutil costs ~0.3 ms a call
        try:
            import psutil

            started = psutil.Process(pid).create_time()
        except Exception:
            started = None
        known = _IDENTITY[pid] = {"pid": pid, "pid_started": started}
    return {"host": hostname(), **known}


_IDENTITY: dict[int, dict[str, Any]] = {}
