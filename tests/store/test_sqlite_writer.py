"""The standard-library write path writes what the SQLAlchemy path writes, row for row."""

from __future__ import annotations

import sqlite3

from tests.report.records import make_result
from vatio.config import Profile
from vatio.record.audit import trusted_verifiers, verify_store
from vatio.record.context import RecordContext
from vatio.record.recorder import Entry, Recorder, record_text
from vatio.store.runstore import RunStore
from vatio.store.sqlite_writer import SqliteWriter

VOLATILE = {"heartbeat_at", "logged_at", "updated_at", "created_at", "pid", "pid_started"}


def _rows(path, table: str, key: str) -> list[dict]:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
    keys = [k for k in (rows[0].keys() if rows else []) if k not in VOLATILE]
    return [{k: r[k] for k in keys} for r in rows]


def _write(path, results, *, fast: bool) -> None:
    recorder = Recorder(RecordContext.build(Profile(store=str(path))))
    recorder.open_store()  # create the store (always the full path)
    if not fast:
        recorder._writer = recorder.open_store()
    entries = [Entry(*record_text(r), "run", None) for r in results]
    assert recorder.write(entries[:1]).store_error is None
    assert recorder.write(entries[1:]).store_error is None
    assert isinstance(recorder.writer(), SqliteWriter) == fast


def test_both_write_paths_store_identical_rows_and_logs(tmp_path):
    results = [make_result(name=f"r{i}") for i in range(4)]
    results[1].artifacts = [{"sha256": "ab" * 32, "path": "/m.pt", "role": "model", "size": 3}]
    _write(tmp_path / "sa.db", results, fast=False)
    _write(tmp_path / "fast.db", results, fast=True)
    for table, key in (("runs", "id"), ("ledger_leaves", "idx"), ("artifacts", "run_id")):
        assert _rows(tmp_path / "sa.db", table, key) == _rows(tmp_path / "fast.db", table, key)
    for name in ("sa.db", "fast.db"):
        audit = verify_store(RunStore(f"sqlite:///{tmp_path / name}"), trusted_verifiers(Profile()))
        assert audit.report.ok and audit.report.size == 4, audit.report.summary()


def test_the_full_path_is_used_where_the_fast_one_cannot_be(tmp_path):
    assert SqliteWriter.open(f"sqlite:///{tmp_path / 'absent.db'}") is None
    assert SqliteWriter.open("postgresql://u@127.0.0.1/db") is None
    RunStore(f"sqlite:///{tmp_path / 'v.db'}")
    with sqlite3.connect(tmp_path / "v.db") as conn:
        conn.execute("UPDATE vatio_meta SET value='1' WHERE key='schema_version'")
    assert SqliteWriter.open(f"sqlite:///{tmp_path / 'v.db'}") is None
