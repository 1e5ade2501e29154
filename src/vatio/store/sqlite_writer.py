"""Recording a run into a SQLite store with the standard library alone.

Every `vatio run` writes to a store, and importing SQLAlchemy costs more than the
rest of a run's recording together (measured: `benchmarks/run_overhead.py`). So
the hot path — mark a run running, heartbeat, write the finished record with its
log leaf and signed checkpoint in one transaction — uses `sqlite3` directly for a
store whose schema is current. Creating a store, migrating one, adopting records
into the log and every reading command go through `RunStore` (SQLAlchemy), and
`tests/store/test_sqlite_writer.py` checks that both paths write identical rows.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from vatio.errors import StoreError
from vatio.store.rows import LedgerState, now_iso, process_identity
from vatio.store.schema_version import SCHEMA_VERSION

T = TypeVar("T")


class SqliteWriter:
    """The recording side of a current-schema SQLite store."""

    def __init__(self, path: Path, url: str, meta: dict[str, str]) -> None:
        self.path = path
        self.url = url
        self.display_url = url
        self.state_meta = meta
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def open(cls, url: str) -> SqliteWriter | None:
        """A writer for `url`, or None when the store needs the full path (not SQLite, absent,
        another schema version, records waiting to be adopted into the log)."""
        path = existing_sqlite_file(url)
        if path is None:
            return None
        try:
            conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        except (OSError, ValueError, sqlite3.Error):
            return None
        try:
            conn.execute("PRAGMA busy_timeout = 60000")
            meta = dict(conn.execute("SELECT key, value FROM vatio_meta").fetchall())
        except sqlite3.Error:
            conn.close()
            return None
        if (
            meta.get("schema_version") != str(SCHEMA_VERSION)
            or meta.get("ledger_adopt") == "pending"
        ):
            conn.close()
            return None
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        writer = cls(path, url, meta)
        writer._conn = conn
        return writer

    # -- the interface the recorder uses (as RunStore's) ------------------------------------
    @property
    def store_id(self) -> str:
        return self.state_meta.get("store_id") or "unknown"

    @property
    def state(self) -> Any:
        return self  # the recorder reads `store.state.meta`

    @property
    def meta(self) -> dict[str, str]:
        return self.state_meta

    def begin(self, run_id: str, **fields: Any) -> None:
        row = {
            "id": run_id,
            "kind": fields["kind"],
            "parent_id": fields.get("parent_id"),
            "name": fields.get("name"),
            "command": json.dumps(fields["command"]) if fields.get("command") else None,
            "status": "running",
            "started_at": fields["started_at"],
            "zone": fields.get("zone"),
            "username": fields.get("username"),
            "project": fields.get("project"),
            "group_id": fields.get("group_id"),
            "heartbeat_at": now_iso(),
            "schema_version": SCHEMA_VERSION,
            **process_identity(),
        }
        self._retry(lambda: self._transaction(lambda c: _insert(c, "runs", row)))

    def heartbeat(self, run_id: str) -> None:
        self._retry(
            lambda: self._transaction(
                lambda c: c.execute(
                    "UPDATE runs SET heartbeat_at = ? WHERE id = ?", (now_iso(), run_id)
                )
            )
        )

    def write_records(self, rows: list[Any], advance: Any) -> tuple[list[int], str | None]:
        """Finished records and, with `advance`, their leaves and a new signed checkpoint,
        in one transaction (BEGIN IMMEDIATE: no other writer between reading and writing
        the log's state)."""
        if not rows:
            return [], None

        def write(conn: sqlite3.Connection) -> tuple[list[int], str | None]:
            for row in rows:
                _write_row(conn, row)
            if advance is None:
                return [], None
            return _append_leaves(conn, [(r.id, r.leaf_hash, r.leaf_note) for r in rows], advance)

        return self._retry(lambda: self._transaction(write))

    # -- plumbing ---------------------------------------------------------------------------
    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        assert self._conn is not None
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            value = work(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return value

    def _retry(self, action: Callable[[], T]) -> T:
        def fail(error: sqlite3.Error) -> StoreError:
            if not isinstance(error, sqlite3.OperationalError):
                return StoreError(f"Cannot use the run store {self.url}: {error}.")
            import os

            writable = os.access(self.path.parent, os.W_OK) and os.access(self.path, os.W_OK)
            what = "" if writable else "it is read-only here; "
            return StoreError(f"Cannot write the run store {self.url}: {what}{error}.")

        return retry_locked(action, fail)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def existing_sqlite_file(url: str) -> Path | None:
    """The file of a plain `sqlite:///PATH` URL (no URI options) that exists, else None."""
    if not url.startswith("sqlite:///") or "?" in url:
        return None
    path = Path(url.removeprefix("sqlite:///"))
    try:
        return path if path.is_file() else None
    except (OSError, ValueError):
        return None


def writable_sqlite(path: Path) -> bool:
    """Whether this process may write the database file and create files beside it."""
    import os

    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def retry_locked(
    action: Callable[[], T], fail: Callable[[sqlite3.Error], StoreError], attempts: int = 20
) -> T:
    """`action`, tried again with a growing pause while another process holds the lock; any
    other database error (or the last attempt's) becomes the StoreError `fail` makes."""
    delay = 0.05
    for attempt in range(attempts):
        try:
            return action()
        except sqlite3.OperationalError as error:
            text = str(error)
            if ("locked" not in text and "busy" not in text) or attempt == attempts - 1:
                raise fail(error) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        except sqlite3.DatabaseError as error:
            raise fail(error) from None
    raise AssertionError("unreachable")


def _insert(conn: sqlite3.Connection, table: str, values: dict[str, Any]) -> None:
    names = ", ".join(f'"{k}"' for k in values)
    marks = ", ".join(f":{k}" for k in values)
    conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)


def _write_row(conn: sqlite3.Connection, row: Any) -> None:
    values = {
        **row.columns,
        "record": row.record_text,
        "digest": row.digest,
        "heartbeat_at": now_iso(),
        "schema_version": SCHEMA_VERSION,
    }
    sets = ", ".join(f'"{k}" = :{k}' for k in values)
    updated = conn.execute(f"UPDATE runs SET {sets} WHERE id = :b_id", {**values, "b_id": row.id})
    if updated.rowcount == 0:
        _insert(
            conn,
            "runs",
            {"id": row.id, "kind": row.kind, "parent_id": row.parent_id,
             **process_identity(), **values},
        )  # fmt: skip
    for item in row.artifacts:
        found = conn.execute(
            "SELECT 1 FROM artifacts WHERE sha256 = ? AND run_id = ?", (item["sha256"], row.id)
        ).fetchone()
        if found is None:
            _insert(
                conn,
                "artifacts",
                {"sha256": item["sha256"], "run_id": row.id, "path": item["path"],
                 "role": item.get("role"), "size": item.get("size"), "created_at": now_iso()},
            )  # fmt: skip


def _append_leaves(
    conn: sqlite3.Connection, entries: list[tuple[str, bytes, str | None]], advance: Any
) -> tuple[list[int], str | None]:
    found = conn.execute("SELECT size, frontier, checkpoint FROM ledger_state WHERE id = 1")
    current = found.fetchone()
    empty = current is None or (int(current[0]) == 0 and current[2] is None)  # a new store's row
    state = None if empty else LedgerState(int(current[0]), current[1], current[2])
    start = state.size if state else 0
    new = advance(state, [leaf for _, leaf, _ in entries])
    now = now_iso()
    rows = [(start + i, run_id, leaf.hex(), now, note) for i, (run_id, leaf, note) in
            enumerate(entries)]  # fmt: skip
    conn.executemany(
        "INSERT INTO ledger_leaves (idx, run_id, leaf_hash, logged_at, note) "
        "VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    if current is None:
        conn.execute(
            "INSERT INTO ledger_state (id, size, frontier, checkpoint, updated_at) "
            "VALUES (1, ?, ?, ?, ?)",
            (new.size, new.frontier, new.checkpoint, now),
        )
    else:
        conn.execute(
            "UPDATE ledger_state SET size = ?, frontier = ?, checkpoint = ?, updated_at = ? "
            "WHERE id = 1",
            (new.size, new.frontier, new.checkpoint, now),
        )
    if new.checkpoint is not None:
        conn.execute(
            "INSERT INTO ledger_checkpoints (size, note, created_at) VALUES (?, ?, ?)",
            (new.size, new.checkpoint, now),
        )
    return [start + i for i in range(len(entries))], new.checkpoint
