"""Stored rows as records: what every read path (SQLAlchemy or sqlite3) shows alike.

Kept free of SQLAlchemy so that the quick read path of `runs list` and `runs show`
(`vatio.store.sqlite_reader`) gives exactly the rows and records `RunStore` gives.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from vatio.errors import StoreError, UnknownRunError
from vatio.hostname import hostname

#: a run marked running on another host counts as abandoned after this long without a beat
STALE_HEARTBEAT_S = 600.0


class MalformedRecordError(StoreError):
    """A stored record that is not valid JSON (damaged or edited behind vatio's back)."""


def _command_of(row: dict[str, Any]) -> list[str] | None:
    try:
        command = json.loads(row["command"]) if row.get("command") else None
    except ValueError:
        command = None
    return command if isinstance(command, list) else None


def summary_of(row: dict[str, Any]) -> dict[str, Any]:
    """A summary row (no record text) with its command as a list and its display status."""
    row = dict(row)
    row["command"] = _command_of(row)
    row["status"] = display_status(row)
    return row


def record_of_row(row: dict[str, Any], where: str = "the store") -> dict[str, Any]:
    """A record dict from a stored row, with its display status, digest and summary."""
    summary = {k: v for k, v in row.items() if k != "record"}
    summary["status"] = display_status(row)
    summary["command"] = _command_of(row)
    text = row.get("record")
    record: Any = {}
    if text:
        try:
            record = json.loads(text)
        except ValueError as error:
            raise MalformedRecordError(
                f"The record of run {row['id']} in {where} is not valid JSON ({error.msg} at "
                f"character {error.pos}).",
                "It was damaged or edited; `vatio ledger verify` shows what the log proves.",
            ) from None
        if not isinstance(record, dict):
            raise MalformedRecordError(
                f"The record of run {row['id']} in {where} is not a JSON object.",
                "It was damaged or edited; `vatio ledger verify` shows what the log proves.",
            )
    record.setdefault("id", row["id"])
    record["status"] = summary["status"]
    record["digest"] = row.get("digest")
    record["summary"] = summary
    return record


def display_status(row: dict[str, Any]) -> str:
    """`abandoned` for a run still marked running whose vatio process is gone."""
    if row.get("status") != "running":
        return row.get("status") or "unknown"
    if row.get("host") == hostname() and row.get("pid"):
        import psutil

        try:
            process = psutil.Process(int(row["pid"]))
            started = process.create_time()
        except (psutil.Error, ValueError, OverflowError):
            return "abandoned"
        expected = row.get("pid_started")
        if expected is not None and abs(started - float(expected)) > 1.0:
            return "abandoned"  # the pid now belongs to another process
        return "running"
    beat = row.get("heartbeat_at")
    if beat:
        try:
            age = time.time() - datetime.fromisoformat(beat.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return "abandoned"
        if age > STALE_HEARTBEAT_S:
            return "abandoned"
    return "running"


def pick_id(run_id: str, matches: list[str], where: str) -> str:
    """The one run an id or id prefix names among the (up to 3) ids it prefixes."""
    if not matches:
        raise UnknownRunError(
            f"No run with id {run_id!r} in {where}.", "`vatio runs list` shows the ids."
        )
    if len(matches) > 1 and run_id not in matches:
        raise UnknownRunError(
            f"The id prefix {run_id!r} matches several runs ({', '.join(matches)}).",
            "Give more characters of the id.",
        )
    return run_id if run_id in matches else matches[0]
