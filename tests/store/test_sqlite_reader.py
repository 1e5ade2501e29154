"""The standard-library read path answers as the SQLAlchemy one, query for query."""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta

import pytest

from tests.report.records import START, iso, make_result, save
from vatio.errors import StoreError, UnknownRunError
from vatio.store.filters import RunFilter
from vatio.store.runstore import RunStore
from vatio.store.sqlite_reader import SqliteReader, open_reader


@pytest.fixture()
def store(tmp_path):
    """A store with finished runs of two users and projects, a multi-node group, a test
    run, a running run of this process and one abandoned on another host."""
    path = tmp_path / "runs.db"
    for i in range(6):
        result = make_result(name=f"job_{i}%", start=START + timedelta(hours=i))
        save(path, result, kind="test" if i == 5 else "run")
    sa_store = RunStore(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY started_at")]
        conn.execute("UPDATE runs SET username='ana', project='vision-a' WHERE id IN (?, ?)",
                     ids[:2])  # fmt: skip
        conn.execute("UPDATE runs SET username='bo', project='nlp_b', host='gpu-7' WHERE id=?",
                     ids[2:3])  # fmt: skip
        conn.execute("UPDATE runs SET group_id='job-42' WHERE id IN (?, ?)", ids[3:5])
    sa_store.begin("live0001", kind="run", parent_id=None, name="live", command=["sleep", "9"],
                   started_at=iso(START + timedelta(hours=9)), zone="ES")  # fmt: skip
    sa_store.begin("gone0001", kind="run", parent_id=None, name="gone", command=None,
                   started_at=iso(START + timedelta(hours=8)), zone=None)  # fmt: skip
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE runs SET host='elsewhere', heartbeat_at='2020-01-01T00:00:00Z' "
                     "WHERE id='gone0001'")  # fmt: skip
    return path


FILTERS = [
    {},
    {"limit": 2},
    {"limit": None},
    {"status": "completed"},
    {"status": "running"},
    {"status": "abandoned"},
    {"status": "abandoned", "limit": 1},
    {"kind": "test"},
    {"hide_kinds": ("test",)},
    {"where": RunFilter(user="ana")},
    {"where": RunFilter(project="*-a")},
    {"where": RunFilter(project="nlp_?")},
    {"where": RunFilter(project="nlp%b")},  # % is a literal here, not a LIKE wildcard
    {"where": RunFilter(host="gpu-*")},
    {"where": RunFilter(group="job-42")},
    {"where": RunFilter(since=iso(START + timedelta(hours=3)))},
    {"where": RunFilter(user="ana", since=iso(START + timedelta(hours=1))), "limit": 5},
]


@pytest.mark.parametrize("query", FILTERS, ids=[str(f) for f in FILTERS])
def test_list_runs_answers_as_runstore(store, query):
    reader = SqliteReader.open(f"sqlite:///{store}")
    assert reader is not None
    expected = RunStore(f"sqlite:///{store}", readonly=True).list_runs(**query)
    assert reader.list_runs(**query) == expected


def test_records_groups_and_log_as_runstore(store):
    url = f"sqlite:///{store}"
    reader, full = SqliteReader.open(url), RunStore(url, readonly=True)
    assert reader.store_id == full.store_id
    for run in full.list_runs(limit=None):
        assert reader.get(run["id"][:7]) == full.get(run["id"][:7])
    assert reader.group_summaries("job-42") == full.group_summaries("job-42")
    assert reader.group_rows("job-42") == full.group_rows("job-42")
    assert reader.group_summaries("nope") == []
    ids = [r["id"] for r in full.list_runs(limit=None)]
    assert sorted(reader.rows_by_id(ids, batch=2), key=lambda r: r["id"]) == sorted(
        full.rows_by_id(ids), key=lambda r: r["id"]
    )
    assert reader.ledger_state() == full.ledger_state()
    assert reader.ledger_leaves() == full.ledger_leaves()
    assert reader.ledger_leaf_hashes() == full.ledger_leaf_hashes()
    assert [r["leaf_hash"] for r in full.ledger_leaves()] == [h for _, _, h in
                                                            full.ledger_leaf_hashes()]  # fmt: skip


def test_ids_and_prefixes_fail_alike(store):
    reader, full = SqliteReader.open(f"sqlite:///{store}"), RunStore(f"sqlite:///{store}")
    for ref in ("zzzz", "%", "_", "\\"):
        with pytest.raises(UnknownRunError) as fast_error:
            reader.get(ref)
        with pytest.raises(UnknownRunError) as full_error:
            full.get(ref)
        assert (
            fast_error.value.message.split(" in ")[0] == full_error.value.message.split(" in ")[0]
        )
    with pytest.raises(UnknownRunError, match="matches several runs"):
        reader.resolve_id("")


def test_stores_it_cannot_serve_go_to_runstore(tmp_path, store):
    assert SqliteReader.open(f"sqlite:///{tmp_path / 'absent.db'}") is None
    assert SqliteReader.open("postgresql://u@127.0.0.1/db") is None
    (tmp_path / "junk.db").write_bytes(os.urandom(4096))
    assert SqliteReader.open(f"sqlite:///{tmp_path / 'junk.db'}") is None
    with pytest.raises(StoreError):
        open_reader(str(tmp_path / "junk.db"))  # RunStore says what is wrong with it
    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE vatio_meta SET value='1' WHERE key='schema_version'")
    assert SqliteReader.open(f"sqlite:///{store}") is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes whatever the modes say")
def test_a_read_only_folder_is_read_as_is(store):
    folder = store.parent
    expected = RunStore(f"sqlite:///{store}", readonly=True).list_runs(limit=None)
    folder.chmod(0o555)
    try:
        reader = SqliteReader.open(f"sqlite:///{store}")
        assert reader is not None and reader.list_runs(limit=None) == expected
    finally:
        folder.chmod(0o755)


def test_open_reader_takes_the_quick_path_for_a_current_sqlite_store(store):
    assert isinstance(open_reader(str(store)), SqliteReader)
