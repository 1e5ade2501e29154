"""Reading a SQLite store with the standard library alone: `runs list` and `runs show`.

Importing SQLAlchemy costs 0.25–0.35 s here, more than everything else these two
commands do together, so for a current-schema SQLite store they read through
`sqlite3` directly, read-only (a read-only mount works, nothing is created). The
rows and records are those `RunStore` gives (`vatio.store.records` builds both),
and `tests/store/test_sqlite_reader.py` checks that both paths answer alike. Any
other store — PostgreSQL, another schema version, a file that is no store — goes
through `RunStore`, which says what is wrong with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from vatio.errors import StoreError
from vatio.store.filters import RunFilter
from vatio.store.records import pick_id, record_of_row, summary_of
from vatio.store.rows import LedgerState
from vatio.store.schema_version import SCHEMA_VERSION
from vatio.store.sqlite_writer import existing_sqlite_file, retry_locked, writable_sqlite

T = TypeVar("T")

#: the runs table's columns but the record text, in the schema's order
SUMMARY_COLUMNS = (
    "id", "kind", "parent_id", "name", "command", "status", "exit_code", "started_at",
    "ended_at", "duration_s", "energy_j", "energy_low_j", "energy_high_j", "process_energy_j",
    "co2e_g", "method", "zone", "host", "pid", "heartbeat_at", "schema_version", "digest",
    "pid_started", "username", "project", "group_id",
)  # fmt: skip
_SUMMARY = ", ".join(f'"{name}"' for name in SUMMARY_COLUMNS)
#: every column of a run, record text included, for a SELECT
FULL_SELECT = _SUMMARY + ', "record"'
_FULL = FULL_SELECT


class SqliteReader:
    """The reading side of a current-schema SQLite store (the part `runs list` and
    `runs show` use, with `RunStore`'s names)."""

    readonly = True
    is_sqlite = True
    #: the database file (other processes open it themselves: `vatio.record.rowcheck`)
    sqlite_file: Path | None = None

    def __init__(self, conn: sqlite3.Connection, url: str, meta: dict[str, str]) -> None:
        self._conn = conn
        self.url = url
        self.display_url = url
        self.meta = meta

    @classmethod
    def open(cls, url: str) -> SqliteReader | None:
        """A reader for `url`, or None when the store needs `RunStore` (not a plain SQLite
        URL, absent, unreadable, another schema version)."""
        path = existing_sqlite_file(url)
        if path is None:
            return None
        try:
            conn = read_only_connection(path)
        except (OSError, ValueError, sqlite3.Error):
            return None
        try:
            meta = _read_meta(conn)
        except (OSError, ValueError, sqlite3.Error):
            conn.close()
            return None
        if meta.get("schema_version") != str(SCHEMA_VERSION):
            conn.close()
            return None
        reader = cls(conn, url, meta)
        reader.sqlite_file = path
        return reader

    @property
    def store_id(self) -> str:
        return self.meta.get("store_id") or "unknown"

    # -- runs ---------------------------------------------------------------------------------
    def list_runs(
        self,
        limit: int | None = 50,
        status: str | None = None,
        kind: str | None = None,
        hide_kinds: tuple[str, ...] = (),
        parent_id: str | None = None,
        where: RunFilter | None = None,
    ) -> list[dict[str, Any]]:
        """As `RunStore.list_runs`: newest first, filtered alike."""
        conditions: list[str] = []
        params: list[Any] = []
        if kind:
            conditions.append("kind = ?")
            params.append(kind)
        elif hide_kinds:
            conditions.append(f"kind NOT IN ({', '.join('?' * len(hide_kinds))})")
            params.extend(hide_kinds)
        if parent_id:
            conditions.append("parent_id = ?")
            params.append(parent_id)
        if where is not None:
            more, values = where.sql()
            conditions.extend(more)
            params.extend(values)
        if status:
            conditions.append("status = ?")
            params.append("running" if status in ("running", "abandoned") else status)
        sql = f"SELECT {_SUMMARY} FROM runs"
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        sql += " ORDER BY started_at DESC, id"
        if limit and status not in ("running", "abandoned"):  # those two are told apart below
            sql += f" LIMIT {int(limit)}"
        summaries = [summary_of(row) for row in self._rows(sql, params)]
        if status:
            summaries = [s for s in summaries if s["status"] == status]
            if limit:
                summaries = summaries[:limit]
        return summaries

    def resolve_id(self, run_id: str) -> str:
        """The full id for an id or a unique prefix of one."""
        pattern = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        found = self._rows("SELECT id FROM runs WHERE id LIKE ? ESCAPE '\\' LIMIT 3", [pattern])
        matches = [row["id"] for row in found]
        return pick_id(run_id, matches, self.display_url)

    def row(self, run_id: str) -> dict[str, Any]:
        full_id = self.resolve_id(run_id)
        return self._rows(f"SELECT {_FULL} FROM runs WHERE id = ?", [full_id])[0]

    def get(self, run_id: str) -> dict[str, Any]:
        return record_of_row(self.row(run_id), self.display_url)

    def group_summaries(self, group_id: str) -> list[dict[str, Any]]:
        sql = f"SELECT {_SUMMARY} FROM runs WHERE group_id = ? ORDER BY started_at, id"
        return [summary_of(row) for row in self._rows(sql, [group_id])]

    def group_rows(self, group_id: str) -> list[dict[str, Any]]:
        sql = f"SELECT {_FULL} FROM runs WHERE group_id = ? ORDER BY started_at"
        return self._rows(sql, [group_id])

    def rows_by_id(self, run_ids: list[str], batch: int = 500) -> Iterator[dict[str, Any]]:
        for start in range(0, len(run_ids), batch):
            ids = run_ids[start : start + batch]
            marks = ", ".join("?" * len(ids))
            yield from self._rows(f"SELECT {_FULL} FROM runs WHERE id IN ({marks})", ids)

    # -- the signed log -----------------------------------------------------------------------
    def ledger_state(self) -> LedgerState | None:
        found = self._rows("SELECT size, frontier, checkpoint FROM ledger_state WHERE id = 1", [])
        if not found or (int(found[0]["size"]) == 0 and found[0]["checkpoint"] is None):
            return None
        row = found[0]
        return LedgerState(int(row["size"]), row["frontier"], row["checkpoint"])

    def iter_logged_records(self, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Every row with its record text, in id order, `batch` rows at a time."""
        last = ""
        while True:
            sql = f"SELECT {_FULL} FROM runs WHERE id > ? ORDER BY id LIMIT {int(batch)}"
            rows = self._rows(sql, [last])
            if not rows:
                return
            yield from rows
            last = rows[-1]["id"]

    def ledger_leaf_hashes(self, start: int = 0) -> list[tuple[int, str, str]]:
        """(index, run id, leaf hash hex) of the leaves from `start` on, in index order."""
        sql = "SELECT idx, run_id, leaf_hash FROM ledger_leaves WHERE idx >= ? ORDER BY idx"
        return _retry(lambda: self._conn.execute(sql, (start,)).fetchall(), self.display_url)

    def leaf_index(self, run_id: str) -> int | None:
        found = self._rows("SELECT idx FROM ledger_leaves WHERE run_id = ?", [run_id])
        return int(found[0]["idx"]) if found else None

    def leaf_count(self) -> int:
        """One more than the highest leaf index (the log's size when nothing is missing)."""
        found = self._rows("SELECT max(idx) AS top FROM ledger_leaves", [])
        return 0 if found[0]["top"] is None else int(found[0]["top"]) + 1

    def ledger_leaves(self) -> list[dict[str, Any]]:
        sql = "SELECT idx, run_id, leaf_hash, logged_at, note FROM ledger_leaves ORDER BY idx"
        return self._rows(sql, [])

    # -- plumbing -----------------------------------------------------------------------------
    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            cursor = self._conn.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return _retry(read, self.display_url)

    def close(self) -> None:
        self._conn.close()


def read_only_connection(path: Path) -> sqlite3.Connection:
    """A connection that never writes. Where the store may be written, an ordinary one with
    `query_only` (it can replay a write-ahead log that `vatio run` processes left behind,
    which a `mode=ro` connection cannot); in a read-only folder, `mode=ro`, and the file as
    it is when not even that opens (no WAL index can be made there)."""
    if writable_sqlite(path):
        conn = sqlite3.connect(path, timeout=60, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA case_sensitive_like = ON")  # patterns behave as on PostgreSQL
        return conn
    conn = _connect(path, "mode=ro")
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.OperationalError as error:
        conn.close()
        if "unable to open" not in str(error):
            raise
        conn = _connect(path, "immutable=1")
    return conn


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.resolve()))}?{mode}"
    conn = sqlite3.connect(uri, uri=True, timeout=60, check_same_thread=False)
    conn.execute("PRAGMA case_sensitive_like = ON")  # patterns behave as on PostgreSQL
    return conn


def _read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM vatio_meta").fetchall())


def _retry(action: Callable[[], T], where: str) -> T:
    def fail(error: sqlite3.Error) -> StoreError:
        if isinstance(error, sqlite3.OperationalError):
            return StoreError(f"Cannot use the run store {where}: {error}.")
        return StoreError(
            f"Cannot use the run store {where}: {error}.",
            "Point --store or VATIO_STORE at a vatio store or a new file.",
        )

    return retry_locked(action, fail)


def open_reader(spec: str | None, cwd: Path | None = None) -> Any:
    """The quickest reader of the store `spec` names: `SqliteReader` where it can serve,
    else a read-only `RunStore` (imported only then)."""
    from vatio.store.location import resolve_url

    url = resolve_url(spec, cwd, create=False)
    reader = SqliteReader.open(url)
    if reader is not None:
        return reader
    from vatio.store.runstore import open_store

    return open_store(spec, cwd, readonly=True)
