"""Records checked in several processes find exactly what one process finds."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from tests.report.records import START, make_result, save
from vatio.config import Profile
from vatio.record import rowcheck
from vatio.record.audit import trusted_verifiers, verify_store
from vatio.store.runstore import RunStore
from vatio.store.sqlite_reader import SqliteReader


@pytest.fixture()
def tampered(tmp_path):
    """30 recorded runs, then edits behind vatio's back: a record, a column, a row deleted,
    a record that hashes but lies in a column."""
    path = tmp_path / "runs.db"
    for i in range(30):
        save(path, make_result(name=f"r{i}", start=START + timedelta(minutes=i)))
    with sqlite3.connect(path) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY id")]
        conn.execute("UPDATE runs SET record=json_set(record,'$.totals.energy_j',1) WHERE id=?",
                     ids[3:4])  # fmt: skip
        conn.execute("UPDATE runs SET energy_j=0.5 WHERE id=?", ids[11:12])
        conn.execute("UPDATE runs SET status='failed' WHERE id=?", ids[12:13])
        conn.execute("DELETE FROM runs WHERE id=?", ids[20:21])
    return path


def _audit(path, store_kind):
    store = (
        SqliteReader.open(f"sqlite:///{path}")
        if store_kind == "reader"
        else RunStore(f"sqlite:///{path}", readonly=True)
    )
    audit = verify_store(store, trusted_verifiers(Profile()))
    problems = [(p.kind, p.where, p.detail) for p in audit.report.problems]
    return audit.report.checked_entries, problems


@pytest.mark.parametrize("store_kind", ["reader", "runstore"])
def test_processes_find_what_one_process_finds(tampered, monkeypatch, store_kind):
    monkeypatch.setattr(rowcheck, "_usable_cpus", lambda: 1)
    alone = _audit(tampered, store_kind)
    monkeypatch.setattr(rowcheck, "_usable_cpus", lambda: 2)
    monkeypatch.setattr(rowcheck, "PARALLEL_FROM", 1)
    monkeypatch.setattr(rowcheck, "CHUNK", 7)  # several chunks, a short last one
    together = _audit(tampered, store_kind)
    assert together == alone
    checked, problems = alone
    assert checked == 26  # 30 runs, one deleted, three edited
    kinds = [kind for kind, _, _ in problems]
    assert kinds.count("digest-mismatch") == 3 and kinds.count("missing-entry") == 1


def test_what_orjson_reads_otherwise_is_decided_as_json_decides():
    """orjson reads a 30-digit integer as a float and refuses a lone surrogate; the check
    still decides as json would: a column one unit off a 30-digit value is named."""
    import hashlib

    from vatio.ledger.merkle import leaf_hash

    surrogate = '{"name":"\\udcff"}'
    assert rowcheck.orjson_loads(surrogate) == json.loads(surrogate)
    text = '{"exit_code":' + "9" * 30 + ',"name":"r","status":"completed"}'
    assert isinstance(rowcheck.orjson_loads(text)["exit_code"], float)
    data = text.encode()
    record = json.loads(text)
    row = {column: value_of(record) for column, value_of in rowcheck.COLUMNS.items()}
    row |= {"id": "x", "record": text, "digest": hashlib.sha256(data).hexdigest()}
    assert rowcheck.check_record(row, {"x": 0}, [leaf_hash(data)], [], rowcheck.orjson_loads) == 0
    problems: list = []
    row["exit_code"] = int("9" * 29 + "8")
    fast = rowcheck.orjson_loads
    assert rowcheck.check_record(row, {"x": 0}, [leaf_hash(data)], problems, fast) is None
    assert "exit_code column" in problems[0].detail


def test_a_wide_integer_inside_the_command_is_decided_as_json_decides():
    """The command column is the JSON of the command's words: a 30-digit integer among them,
    which orjson reads as a float, must not let a column written from that float pass."""
    import hashlib

    from vatio.ledger.merkle import leaf_hash

    text = '{"command":["x",' + "9" * 30 + '],"name":"r","status":"completed"}'
    data = text.encode()
    record = json.loads(text)
    row = {column: value_of(record) for column, value_of in rowcheck.COLUMNS.items()}
    row |= {"id": "x", "record": text, "digest": hashlib.sha256(data).hexdigest()}
    assert rowcheck.check_record(row, {"x": 0}, [leaf_hash(data)], [], rowcheck.orjson_loads) == 0
    row["command"] = json.dumps(rowcheck.orjson_loads(text)["command"])  # ["x", 1e+30]
    problems: list = []
    fast = rowcheck.orjson_loads
    assert rowcheck.check_record(row, {"x": 0}, [leaf_hash(data)], problems, fast) is None
    assert "command column" in problems[0].detail
