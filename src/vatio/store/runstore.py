"""Reading and writing run records.

A run is inserted as `running` when it starts and completed when it stops,
so a vatio process killed mid-run leaves a row that `runs list` shows as
`abandoned`. SQLite runs in WAL mode with a long busy timeout, and writes are
retried, so many `vatio run` processes can share one store.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError, SQLAlchemyError

from vatio.canonical import sha256_hex
from vatio.errors import StoreError, UnknownRunError
from vatio.measure.result import RunResult
from vatio.store.location import resolve_url
from vatio.store.schema import SCHEMA_VERSION, artifacts, meta, metadata, runs, tags

SUMMARY_COLUMNS = [c for c in runs.c if c.name != "record"]
STALE_HEARTBEAT_S = 600.0
T = TypeVar("T")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class RunStore:
    """One store of runs; cheap to open, safe to share between processes."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = sa.create_engine(url, **self._engine_options(url))
        except (SQLAlchemyError, ImportError, ValueError) as error:
            raise StoreError(f"Cannot open the run store {url!r}: {error}.") from None
        if url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self._retry(self._create_schema)

    @staticmethod
    def _engine_options(url: str) -> dict[str, Any]:
        if url.startswith("sqlite"):
            return {"connect_args": {"timeout": 60}, "poolclass": sa.pool.NullPool}
        return {"pool_pre_ping": True}

    def _create_schema(self) -> None:
        try:
            metadata.create_all(self.engine, checkfirst=True)
        except OperationalError as error:
            if "already exists" not in str(error):
                raise
        with self.engine.begin() as conn:
            found = conn.execute(
                sa.select(meta.c.value).where(meta.c.key == "schema_version")
            ).scalar()
            if found is None:
                with contextlib.suppress(IntegrityError):
                    conn.execute(
                        meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION))
                    )
            elif int(found) != SCHEMA_VERSION:
                raise StoreError(
                    f"The store {self.url} has schema version {found}; this vatio reads version "
                    f"{SCHEMA_VERSION}.",
                    "Use a vatio release that matches, or a new store with --store.",
                )

    def _retry(self, action: Callable[[], T], attempts: int = 20) -> T:
        delay = 0.05
        for attempt in range(attempts):
            try:
                return action()
            except OperationalError as error:
                transient = "locked" in str(error) or "busy" in str(error)
                if not transient or attempt == attempts - 1:
                    raise StoreError(
                        f"Cannot use the run store {self.url}: {error.orig}."
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except DatabaseError as error:  # e.g. a file that is not a database at all
                raise StoreError(
                    f"Cannot use the run store {self.url}: {error.orig}.",
                    "Point --store or VATIO_STORE at a vatio store or a new file.",
                ) from None
        raise AssertionError("unreachable")

    # -- writing ----------------------------------------------------------------
    def begin(self, result: RunResult, kind: str = "run", parent_id: str | None = None) -> None:
        """Record a run as running, so a crash of vatio still leaves a trace."""
        row = {
            "id": result.id,
            "kind": kind,
            "parent_id": parent_id,
            "name": result.name,
            "command": json.dumps(result.command) if result.command else None,
            "status": "running",
            "started_at": result.started_at,
            "zone": (result.profile or {}).get("zone"),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "heartbeat_at": _now_iso(),
            "schema_version": SCHEMA_VERSION,
        }
        self._retry(lambda: self._execute(runs.insert().values(**row)))

    def heartbeat(self, run_id: str) -> None:
        stmt = runs.update().where(runs.c.id == run_id).values(heartbeat_at=_now_iso())
        self._retry(lambda: self._execute(stmt))

    def finish(self, result: RunResult, kind: str = "run", parent_id: str | None = None) -> str:
        """Write the final record and its digest; inserts it if begin() was never called."""
        values = _final_values(result)

        def write() -> None:
            with self.engine.begin() as conn:
                updated = conn.execute(runs.update().where(runs.c.id == result.id).values(**values))
                if updated.rowcount == 0:
                    conn.execute(
                        runs.insert().values(**_insert_only(result, kind, parent_id), **values)
                    )
            self._write_artifacts(result)

        self._retry(write)
        return values["digest"]

    def finish_many(
        self, results: list[RunResult], kind: str, parent_id: str | None = None
    ) -> None:
        """Insert many finished runs in one transaction (e.g. one per test of a session)."""
        rows = [_insert_only(r, kind, parent_id) | _final_values(r) for r in results]
        if not rows:
            return

        def write() -> None:
            with self.engine.begin() as conn:
                conn.execute(runs.insert(), rows)

        self._retry(write)

    def _write_artifacts(self, result: RunResult) -> None:
        for item in result.artifacts:
            row = {
                "sha256": item["sha256"],
                "run_id": result.id,
                "path": item["path"],
                "role": item.get("role"),
                "size": item.get("size"),
                "created_at": _now_iso(),
            }
            try:
                with self.engine.begin() as conn:
                    conn.execute(artifacts.insert().values(**row))
            except IntegrityError:
                pass  # the same file recorded twice for one run

    # -- tags and artefacts -----------------------------------------------------
    def tag(self, run_id: str, tag: str) -> str:
        """Attach a tag (e.g. a baseline name) to a run; a tag may name several runs."""
        full_id = self.resolve_id(run_id)

        def write() -> None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        tags.insert().values(tag=tag, run_id=full_id, created_at=_now_iso())
                    )
            except IntegrityError:
                pass

        self._retry(write)
        return full_id

    def tagged(self, tag: str) -> list[str]:
        query = (
            sa.select(tags.c.run_id, runs.c.started_at)
            .join(runs, runs.c.id == tags.c.run_id)
            .where(tags.c.tag == tag)
            .order_by(runs.c.started_at)
        )
        return [row["run_id"] for row in self._retry(lambda: self._fetch(query))]

    def resolve_ref(self, ref: str) -> list[str]:
        """Run ids for a tag, or the one run an id (prefix) names."""
        ids = self.tagged(ref)
        return ids if ids else [self.resolve_id(ref)]

    def find_artifact(self, sha256: str) -> list[dict[str, Any]]:
        query = (
            sa.select(artifacts, runs.c.name, runs.c.started_at, runs.c.status)
            .join(runs, runs.c.id == artifacts.c.run_id)
            .where(artifacts.c.sha256 == sha256)
            .order_by(runs.c.started_at)
        )
        return self._retry(lambda: self._fetch(query))

    def _execute(self, statement: sa.Executable) -> None:
        with self.engine.begin() as conn:
            conn.execute(statement)

    # -- reading ----------------------------------------------------------------
    def list_runs(
        self,
        limit: int | None = 50,
        status: str | None = None,
        kind: str | None = None,
        hide_kinds: tuple[str, ...] = (),
    ) -> list[dict[str, Any]]:
        """Newest first; `kind` selects one kind, `hide_kinds` leaves some out."""
        query = sa.select(*SUMMARY_COLUMNS).order_by(runs.c.started_at.desc())
        if kind:
            query = query.where(runs.c.kind == kind)
        elif hide_kinds:
            query = query.where(runs.c.kind.not_in(hide_kinds))
        if limit:
            query = query.limit(limit)
        rows = self._retry(lambda: self._fetch(query))
        summaries = [self._summary(row) for row in rows]
        if status:
            summaries = [s for s in summaries if s["status"] == status]
        return summaries

    def _fetch(self, query: sa.Select) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def _summary(self, row: dict[str, Any]) -> dict[str, Any]:
        row = dict(row)
        row["command"] = json.loads(row["command"]) if row.get("command") else None
        row["status"] = display_status(row)
        return row

    def resolve_id(self, run_id: str) -> str:
        """The full id for an id or a unique prefix of one."""
        query = sa.select(runs.c.id).where(runs.c.id.startswith(run_id, autoescape=True)).limit(3)
        matches = [r["id"] for r in self._retry(lambda: self._fetch(query))]
        if not matches:
            raise UnknownRunError(
                f"No run with id {run_id!r} in {self.url}.", "`vatio runs list` shows the ids."
            )
        if len(matches) > 1 and run_id not in matches:
            raise UnknownRunError(
                f"The id prefix {run_id!r} matches several runs ({', '.join(matches)}).",
                "Give more characters of the id.",
            )
        return run_id if run_id in matches else matches[0]

    def get(self, run_id: str) -> dict[str, Any]:
        """The full record of one run (id or unique prefix), with its display status."""
        full_id = self.resolve_id(run_id)
        query = sa.select(runs).where(runs.c.id == full_id)
        row = self._retry(lambda: self._fetch(query))[0]
        summary = self._summary(row)
        record = json.loads(row["record"]) if row.get("record") else {}
        record.setdefault("id", full_id)
        record["status"] = summary["status"]
        record["digest"] = row.get("digest")
        record["summary"] = {k: v for k, v in summary.items() if k != "record"}
        return record

    def iter_records(self) -> Iterator[dict[str, Any]]:
        for summary in self.list_runs(limit=None):
            yield self.get(summary["id"])


def _final_values(result: RunResult) -> dict[str, Any]:
    record = result.to_dict()
    return {
        "name": result.name,
        "command": json.dumps(result.command) if result.command else None,
        "status": result.status,
        "exit_code": result.exit_code,
        "started_at": result.started_at,
        "ended_at": result.ended_at,
        "duration_s": result.duration_s,
        "energy_j": result.energy_j,
        "energy_low_j": result.energy_low_j,
        "energy_high_j": result.energy_high_j,
        "process_energy_j": result.process_energy_j,
        "co2e_g": result.co2e_g,
        "method": result.method,
        "zone": (result.carbon or {}).get("zone") or (result.profile or {}).get("zone"),
        "heartbeat_at": _now_iso(),
        "record": json.dumps(record, sort_keys=True, default=str),
        "digest": sha256_hex(record),
    }


def _insert_only(result: RunResult, kind: str, parent_id: str | None) -> dict[str, Any]:
    return {
        "id": result.id,
        "kind": kind,
        "parent_id": parent_id,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "schema_version": SCHEMA_VERSION,
    }


def display_status(row: dict[str, Any]) -> str:
    """`abandoned` for a run still marked running whose vatio process is gone."""
    if row.get("status") != "running":
        return row.get("status") or "unknown"
    if row.get("host") == socket.gethostname() and row.get("pid"):
        import psutil

        return "running" if psutil.pid_exists(int(row["pid"])) else "abandoned"
    beat = row.get("heartbeat_at")
    if beat:
        age = time.time() - datetime.fromisoformat(beat.replace("Z", "+00:00")).timestamp()
        if age > STALE_HEARTBEAT_S:
            return "abandoned"
    return "running"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 60000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def open_store(spec: str | None = None, cwd: Path | None = None) -> RunStore:
    return RunStore(resolve_url(spec, cwd))
