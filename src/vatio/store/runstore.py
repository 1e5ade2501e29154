"""Reading and writing run records.

A run is inserted as `running` when it starts and completed when it stops,
so a vatio process killed mid-run leaves a row that `runs list` shows as
`abandoned`. SQLite runs in WAL mode with a long busy timeout, and writes are
retried, so many `vatio run` processes can share one store.

Records are kept as the exact canonical JSON bytes that the signed log hashes
(`vatio.record` computes them); this layer persists records, leaves and
checkpoints but never signs or verifies anything itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError, SQLAlchemyError

from vatio.errors import StoreError
from vatio.store.connection import (
    hide_password,
    is_file,
    reason,
    sqlite_pragmas,
    sqlite_readonly_pragmas,
)
from vatio.store.location import resolve_url
from vatio.store.logrows import LogRows
from vatio.store.migrate import SchemaState, ensure_schema
from vatio.store.records import (  # noqa: F401  (re-exported: callers import them from here)
    STALE_HEARTBEAT_S,
    MalformedRecordError,
    display_status,
    pick_id,
    record_of_row,
    summary_of,
)
from vatio.store.rows import LogAdvance, RecordRow, now_iso, process_identity
from vatio.store.runreads import RunReads
from vatio.store.schema import (
    SCHEMA_VERSION,
    artifacts,
    ledger_leaves,
    meta,
    runs,
    tags,
)

# Statements built once: the hot path of recording a run does not rebuild SQL constructs.
_UPDATE_RUN = runs.update().where(runs.c.id == sa.bindparam("b_id"))
_INSERT_RUN = runs.insert()
_FIND_ARTIFACT = sa.select(artifacts.c.sha256).where(
    artifacts.c.sha256 == sa.bindparam("b_sha"), artifacts.c.run_id == sa.bindparam("b_run")
)
_INSERT_ARTIFACT = artifacts.insert()
#: words of database errors worth retrying: SQLite's lock, PostgreSQL's deadlock victim
_TRANSIENT = ("locked", "busy", "deadlock detected", "could not serialize")
T = TypeVar("T")


class RunStore(RunReads, LogRows):
    """One store of runs; cheap to open, safe to share between processes."""

    def __init__(self, url: str, *, readonly: bool = False) -> None:
        self.url = url
        self.readonly = readonly
        self.display_url = hide_password(url)
        try:
            self.engine = sa.create_engine(self._engine_url(), **self._engine_options())
        except (SQLAlchemyError, ImportError, ValueError) as error:
            raise StoreError(
                f"Cannot open the run store {self.display_url}: {reason(error)}."
            ) from None
        if self.is_sqlite:
            listener = sqlite_readonly_pragmas if readonly else sqlite_pragmas
            sa.event.listen(self.engine, "connect", listener)
        self.state: SchemaState = self._retry(self._open_schema)

    # -- opening ----------------------------------------------------------------
    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def _engine_url(self) -> str:
        if not (self.readonly and self.is_sqlite):
            return self.url
        path = sa.engine.make_url(self.url).database or ""
        from vatio.store.sqlite_writer import writable_sqlite

        if path and writable_sqlite(Path(path)):  # query_only: see sqlite_readonly_pragmas
            return self.url
        return f"sqlite:///file:{path}?mode=ro&uri=true"

    def _engine_options(self) -> dict[str, Any]:
        if self.is_sqlite:
            # Keep connections open: closing the last one checkpoints the WAL (~10 ms each time)
            return {
                "connect_args": {"timeout": 60, "check_same_thread": False},
                "poolclass": sa.pool.QueuePool,
                "pool_size": 2,
                "max_overflow": 4,
            }
        # no ping per checkout (a round trip per write): a connection the server dropped
        # fails its statement instead, the pool is invalidated and _retry tries again
        return {"pool_pre_ping": False}

    def _open_schema(self) -> SchemaState:
        if self.readonly:
            from vatio.store.migrate import read_state

            try:
                with self.engine.connect() as conn:
                    state = read_state(conn, self.display_url)
            except OperationalError as error:
                if self.is_sqlite and "unable to open" in str(error):
                    self._reopen_immutable()
                    with self.engine.connect() as conn:
                        state = read_state(conn, self.display_url)
                else:
                    raise
            if state.version != SCHEMA_VERSION:
                raise StoreError(
                    f"The store {self.display_url} has schema version {state.version}; this "
                    f"vatio reads version {SCHEMA_VERSION}, and the store is read-only here.",
                    "Run `vatio store migrate` once where the store is writable.",
                )
            return state
        return ensure_schema(self.engine, self.display_url)

    def _reopen_immutable(self) -> None:
        """A read-only mount: SQLite cannot create the WAL index, so read the file as is."""
        path = sa.engine.make_url(self.url).database or ""
        self.engine.dispose()
        self.engine = sa.create_engine(
            f"sqlite:///file:{path}?immutable=1&uri=true", **self._engine_options()
        )

    @property
    def sqlite_file(self) -> Path | None:
        """The database file of a SQLite store (None for a server, or SQLite in memory)."""
        if not self.is_sqlite:
            return None
        from vatio.store.sqlite_writer import existing_sqlite_file

        return existing_sqlite_file(self.url)

    @property
    def store_id(self) -> str:
        return self.state.meta.get("store_id") or "unknown"

    def _retry(self, action: Callable[[], T], attempts: int = 20) -> T:
        delay = 0.05
        for attempt in range(attempts):
            try:
                return action()
            except OperationalError as error:
                text = str(error)
                transient = any(word in text for word in _TRANSIENT) or bool(
                    getattr(error, "connection_invalidated", False)
                )
                if not transient or attempt == attempts - 1:
                    raise StoreError(self._failure(error), self._hint(text)) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except DatabaseError as error:  # e.g. a file that is not a database at all
                raise StoreError(
                    f"Cannot use the run store {self.display_url}: {reason(error)}.",
                    "Point --store or VATIO_STORE at a vatio store or a new file.",
                ) from None
        raise AssertionError("unreachable")

    def _failure(self, error: Exception) -> str:
        if self._read_only_here():
            return (
                f"Cannot write the run store {self.display_url}: it is read-only here "
                f"({reason(error)})."
            )
        return f"Cannot use the run store {self.display_url}: {reason(error)}."

    def _read_only_here(self) -> bool:
        """A SQLite store whose file or folder this process may not write (a read-only
        mount, another user's folder)."""
        if not self.is_sqlite:
            return False
        path = Path(sa.engine.make_url(self.url).database or "")
        return not (
            os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))
        )

    def _hint(self, text: str) -> str | None:
        if "readonly" in text or "read-only" in text or self._read_only_here():
            return "The store is read-only here: reading works, recording needs a writable store."
        return None

    # -- writing ----------------------------------------------------------------
    def begin(
        self,
        run_id: str,
        *,
        kind: str,
        parent_id: str | None,
        name: str | None,
        command: list[str] | None,
        started_at: str,
        zone: str | None,
        username: str | None = None,
        project: str | None = None,
        group_id: str | None = None,
    ) -> None:
        """Record a run as running, so a crash of vatio still leaves a trace."""
        row = {
            "id": run_id,
            "kind": kind,
            "parent_id": parent_id,
            "name": name,
            "command": json.dumps(command) if command else None,
            "status": "running",
            "started_at": started_at,
            "zone": zone,
            "username": username,
            "project": project,
            "group_id": group_id,
            "heartbeat_at": now_iso(),
            "schema_version": SCHEMA_VERSION,
            **process_identity(),
        }
        self._retry(lambda: self._execute(runs.insert().values(**row)))

    def heartbeat(self, run_id: str) -> None:
        stmt = runs.update().where(runs.c.id == run_id).values(heartbeat_at=now_iso())
        self._retry(lambda: self._execute(stmt))

    def write_records(
        self, rows: list[RecordRow], advance: LogAdvance | None
    ) -> tuple[list[int], str | None]:
        """Write finished records and, with `advance`, their log leaves and a new checkpoint,
        all in one transaction. Returns each record's leaf index and the checkpoint."""
        if not rows:
            return [], None

        def write() -> tuple[list[int], str | None]:
            with self._write_transaction() as conn:
                for row in rows:
                    self._write_row(conn, row)
                if advance is None:
                    return [], None
                entries = [(row.id, row.leaf_hash, row.leaf_note) for row in rows]
                return self._append_leaves(conn, entries, advance)  # type: ignore[arg-type]

        return self._retry(write)

    def log_existing(
        self, entries: list[tuple[str, bytes, str | None]], advance: LogAdvance
    ) -> tuple[list[int], str | None]:
        """Add leaves for records already stored (adopted after a migration)."""
        if not entries:
            return [], None

        def write() -> tuple[list[int], str | None]:
            with self._write_transaction() as conn:
                logged = {
                    r.run_id
                    for r in conn.execute(
                        sa.select(ledger_leaves.c.run_id).where(
                            ledger_leaves.c.run_id.in_([e[0] for e in entries])
                        )
                    )
                }
                fresh = [e for e in entries if e[0] not in logged]
                if not fresh:
                    return [], None
                return self._append_leaves(conn, fresh, advance)

        return self._retry(write)

    def _write_row(self, conn: sa.Connection, row: RecordRow) -> None:
        values = {
            **row.columns,
            "record": row.record_text,
            "digest": row.digest,
            "heartbeat_at": now_iso(),
            "schema_version": SCHEMA_VERSION,
        }
        first = {"id": row.id, "kind": row.kind, "parent_id": row.parent_id}
        upsert = self._upsert_run(values)
        if upsert is not None:  # one round trip, whether begin() inserted the row or not
            conn.execute(upsert, {**first, **process_identity(), **values})
        else:
            updated = conn.execute(_UPDATE_RUN, {"b_id": row.id, **values})
            if updated.rowcount == 0:
                conn.execute(_INSERT_RUN, {**first, **process_identity(), **values})
        for item in row.artifacts:
            exists = conn.execute(
                _FIND_ARTIFACT, {"b_sha": item["sha256"], "b_run": row.id}
            ).first()
            if exists is None:
                conn.execute(
                    _INSERT_ARTIFACT,
                    {
                        "sha256": item["sha256"],
                        "run_id": row.id,
                        "path": item["path"],
                        "role": item.get("role"),
                        "size": item.get("size"),
                        "created_at": now_iso(),
                    },
                )

    def _upsert_run(self, values: dict[str, Any]) -> Any:
        """INSERT ... ON CONFLICT (id) DO UPDATE of `values` (PostgreSQL, SQLite), built once
        per set of columns; None for other databases."""
        dialect = self.engine.dialect.name
        if dialect not in ("postgresql", "sqlite"):
            return None
        key = tuple(sorted(values))
        cache = self.__dict__.setdefault("_upserts", {})
        if key not in cache:
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            statement = insert(runs)
            cache[key] = statement.on_conflict_do_update(
                index_elements=[runs.c.id], set_={k: statement.excluded[k] for k in key}
            )
        return cache[key]

    @contextlib.contextmanager
    def _write_transaction(self) -> Iterator[sa.Connection]:
        """A transaction that holds the write lock from its start (SQLite BEGIN IMMEDIATE),
        so reading and advancing the log cannot interleave with another writer."""
        if not self.is_sqlite:
            with self.engine.begin() as conn:
                yield conn
            return
        with self.engine.connect() as raw:
            conn = raw.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")

    def set_meta(self, key: str, value: str) -> None:
        def write() -> None:
            with self.engine.begin() as conn:
                if conn.execute(
                    meta.update().where(meta.c.key == key).values(value=value)
                ).rowcount:
                    return
                conn.execute(meta.insert().values(key=key, value=value))

        self._retry(write)
        self.state.meta[key] = value

    # -- tags and artefacts -----------------------------------------------------
    def tag(self, run_id: str, tag: str) -> str:
        """Attach a tag (e.g. a baseline name) to a run; a tag may name several runs."""
        full_id = self.resolve_id(run_id)

        def write() -> None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        tags.insert().values(tag=tag, run_id=full_id, created_at=now_iso())
                    )
            except IntegrityError:
                pass

        self._retry(write)
        return full_id

    def _execute(self, statement: sa.Executable) -> None:
        with self.engine.begin() as conn:
            conn.execute(statement)


def open_store(
    spec: str | None = None, cwd: Path | None = None, *, readonly: bool = False
) -> RunStore:
    """The store a spec names; reading commands open it read-only and create nothing."""
    if readonly:
        url = resolve_url(spec, cwd, create=False)
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            if not is_file(path):
                from vatio.errors import StoreError as _StoreError

                raise _StoreError(
                    f"There is no run store at {path} (nothing recorded there yet).",
                    "Record runs with `vatio run`, or point --store or VATIO_STORE at the store.",
                )
        return RunStore(url, readonly=True)
    return RunStore(resolve_url(spec, cwd))
