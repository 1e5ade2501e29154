"""Reading the runs a report is about, with errors a user can act on (exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vatio.errors import StoreError, VatioError


class RecordVersionError(VatioError):
    """A run recorded by a vatio whose record layout this one does not read."""


def open_run_store(spec: str | None):
    """The store, or a StoreError for anything that stops it opening (not a database, ...)."""
    from sqlalchemy.exc import SQLAlchemyError

    from vatio.store.runstore import open_store

    try:
        return open_store(spec, readonly=True)
    except SQLAlchemyError as error:
        where = spec or "the default store .vatio/vatio.db"
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise StoreError(
            f"Cannot open the run store {where}: {reason}.",
            "Point --store or VATIO_STORE at a vatio store (a SQLite file or a database URL).",
        ) from None


def store_exists(spec: str | None, cwd: Path | None = None) -> bool:
    """False when the default or given SQLite file is absent, so a check creates nothing."""
    if spec and "://" in spec:
        return True
    from vatio.store.location import DEFAULT_PATH

    path = Path(spec).expanduser() if spec else (cwd or Path.cwd()) / DEFAULT_PATH
    return path.is_file()


def check_version(record: dict[str, Any]) -> None:
    """Refuse a record whose layout differs from the one this vatio writes."""
    from vatio.measure.result import SCHEMA_VERSION

    found = record.get("schema_version")
    if found != SCHEMA_VERSION:
        raise RecordVersionError(
            f"Run {record.get('id')} was recorded with record schema version {found}; "
            f"this vatio reads version {SCHEMA_VERSION}.",
            "Report it with the vatio release that recorded it.",
        )


def load_records(
    spec: str | None, run_ids: list[str], *, with_store: bool = False
) -> tuple[Any, ...]:
    """Full records of the given ids (or unique prefixes), in order, and the store URL
    (and the open store, with `with_store`)."""
    from vatio.errors import InputError

    if not run_ids:
        raise InputError("No run id given.", "`vatio runs list` shows the ids.")
    if not store_exists(spec):
        raise StoreError(
            f"There is no run store at {spec or '.vatio/vatio.db'} (nothing recorded here yet).",
            "Record runs with `vatio run`, or point --store or VATIO_STORE at the store.",
        )
    store = open_run_store(spec)
    records = []
    for run_id in run_ids:
        record = _logical(store, run_id)
        if "schema_version" not in record:  # begun, never finished: no record written yet
            raise InputError(*_unfinished(record))
        check_version(record)
        records.append(record)
    ids = [r["id"] for r in records]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InputError(f"Run {', '.join(duplicates)} is given more than once.")
    return (records, store.display_url, store) if with_store else (records, store.display_url)


def _logical(store: Any, ref: str) -> dict[str, Any]:
    """A run, or the merged run of a multi-node job (named by its group id or any part)."""
    from vatio.record.group import group_of, load_group

    if store.group_summaries(ref):
        return load_group(store, ref)
    record = store.get(ref)
    group = group_of(record)
    return load_group(store, group) if group else record


def _unfinished(record: dict[str, Any]) -> tuple[str, str]:
    """Why a begun run has no figures: still running, or abandoned (and since when)."""
    summary = record.get("summary") or {}
    status = record.get("status")
    if status == "abandoned":
        beat = summary.get("heartbeat_at") or summary.get("started_at")
        return (
            f"Run {record['id']} was abandoned: its vatio process ({summary.get('host')}, pid "
            f"{summary.get('pid')}) ended without finishing the record; it started "
            f"{summary.get('started_at')} and its last heartbeat was {beat}. Nothing but that "
            "was recorded (figures are written when a run stops).",
            "A run killed with SIGKILL or a power loss cannot be reported; `vatio runs list` "
            "shows it as abandoned.",
        )
    return (
        f"Run {record['id']} is {status}: it has no energy figures yet.",
        "Report a run once it has finished (`vatio runs list` shows their status).",
    )


def record_kind(record: dict[str, Any]) -> str:
    """The store's kind of a run (run, optimize, scale, test); 'run' when unknown."""
    return str((record.get("summary") or {}).get("kind") or record.get("kind") or "run")
