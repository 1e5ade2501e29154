"""The same store on a real PostgreSQL server: schema, migrations, one signed log under load."""

from __future__ import annotations

import multiprocessing

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tests.measure.fakes import ConstantPowerSensor
from tests.team.helpers import result, save
from vatio.api import Tracker
from vatio.cli.app import app
from vatio.config import Profile
from vatio.record.audit import trusted_verifiers, verify_store
from vatio.store.migrate import upgrade
from vatio.store.runstore import RunStore
from vatio.store.schema import HEAD_REVISION, SCHEMA_VERSION

runner = CliRunner()


def _schema(url: str) -> dict[str, object]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {
            table: (
                sorted(c["name"] for c in inspector.get_columns(table)),
                sorted(
                    (i["name"], tuple(i["column_names"]))
                    for i in inspector.get_indexes(table)
                    if i["name"] and not i.get("duplicates_constraint")
                ),
            )
            for table in sorted(inspector.get_table_names())
        }
    finally:
        engine.dispose()


def test_same_schema_on_sqlite_and_postgresql(tmp_path, pg_url):
    sqlite_url = f"sqlite:///{tmp_path / 'v.db'}"
    RunStore(sqlite_url).engine.dispose()
    RunStore(pg_url).engine.dispose()
    found = _schema(pg_url)
    assert found == _schema(sqlite_url)
    indexes = dict(found["runs"][1])  # type: ignore[index]
    assert indexes["ix_runs_user_started"] == ("username", "started_at")
    assert indexes["ix_runs_host_started"] == ("host", "started_at")
    assert indexes["ix_runs_group"] == ("group_id",)


def test_a_tracked_run_on_postgresql_is_listed_shown_and_verified(pg_url, monkeypatch):
    monkeypatch.setenv("USER", "alice")
    monkeypatch.setenv("VATIO_HOSTNAME", "gpu-node-1")
    monkeypatch.setenv("VATIO_PROJECT", "llm")
    with Tracker("train", store=pg_url, sensors=[ConstantPowerSensor()]) as tracker:
        pass
    store = RunStore(pg_url)
    (row,) = store.list_runs()
    assert (row["username"], row["host"], row["project"]) == ("alice", "gpu-node-1", "llm")
    assert store.get(tracker.run_id)["owner"] == {
        "user": "alice", "host": "gpu-node-1", "project": "llm"
    }  # fmt: skip
    audit = verify_store(store, trusted_verifiers(Profile()))
    assert audit.report.ok and audit.report.size == 1
    done = runner.invoke(app, ["ledger", "verify", "--store", pg_url])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(app, ["runs", "show", tracker.run_id, "--store", pg_url])
    assert "verified: leaf 0 of checkpoint 1" in shown.output


@pytest.mark.parametrize("start", ["0001_initial", "0002_trust"])
def test_postgresql_store_of_every_earlier_schema_is_upgraded(pg_url, start):
    engine = sa.create_engine(pg_url)
    upgrade(engine, start)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO runs (id, kind, status, started_at, schema_version, host) "
            "VALUES ('aaaaaaaaaaaa', 'run', 'running', '2026-11-20T10:00:00Z', 1, 'old-host')"
        )
    engine.dispose()
    store = RunStore(pg_url)
    assert store.state.version == SCHEMA_VERSION
    with store.engine.connect() as conn:
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert revision == HEAD_REVISION
    (row,) = store.list_runs()
    assert row["id"] == "aaaaaaaaaaaa" and row["group_id"] is None
    save(pg_url, [result()])
    assert len(store.list_runs()) == 2


def _open_new_store(url: str, barrier, queue) -> None:
    barrier.wait(timeout=60)
    try:
        store = RunStore(url)
        queue.put(store.store_id)
    except Exception as error:  # reported to the test, which fails with it
        queue.put(f"error: {error!r}")


def test_many_processes_opening_a_new_postgresql_store_make_one_schema(pg_url):
    context = multiprocessing.get_context("fork")
    barrier, queue = context.Barrier(8), context.Queue()
    workers = [
        context.Process(target=_open_new_store, args=(pg_url, barrier, queue)) for _ in range(8)
    ]
    for worker in workers:
        worker.start()
    found = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert len(set(found)) == 1 and not found[0].startswith("error"), found


WRITERS = 32


def _append(url: str, index: int, barrier, queue) -> None:
    try:
        from vatio.record.context import RecordContext
        from vatio.record.recorder import Recorder

        recorder = Recorder(RecordContext.build(Profile(store=url), {}))
        recorder.open_store()
        run = result(run_id=f"writer{index:06d}", energy_j=float(index + 1))
        barrier.wait(timeout=120)  # every process appends at the same moment
        outcome = recorder.record([run], begun=False)
        queue.put((index, outcome.store_error, outcome.leaf_indices))
    except Exception as error:
        queue.put((index, repr(error), []))


@pytest.mark.parametrize("state_row", [True, False])
def test_32_processes_appending_at_once_keep_one_signed_log(pg_url, state_row):
    store = RunStore(pg_url)  # the schema exists before the writers start
    if not state_row:  # a store whose empty log has no state row yet: a table lock serialises
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM ledger_state")
    store.engine.dispose()
    context = multiprocessing.get_context("fork")
    barrier, queue = context.Barrier(WRITERS), context.Queue()
    workers = [
        context.Process(target=_append, args=(pg_url, i, barrier, queue)) for i in range(WRITERS)
    ]
    for worker in workers:
        worker.start()
    outcomes = sorted(queue.get(timeout=180) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    assert [error for _, error, _ in outcomes] == [None] * WRITERS
    indices = sorted(i for _, _, leaves in outcomes for i in leaves)
    assert indices == list(range(WRITERS))  # no fork, no lost or repeated leaf
    store = RunStore(pg_url)
    assert len(store.list_runs(limit=None)) == WRITERS
    audit = verify_store(store, trusted_verifiers(Profile()))
    assert audit.report.ok, audit.report.problems
    assert audit.report.size == WRITERS and audit.report.checkpoint_size == WRITERS
    assert [c["size"] for c in store.ledger_checkpoints()] == list(range(1, WRITERS + 1))
    done = runner.invoke(app, ["ledger", "verify", "--store", pg_url, "--json"])
    assert done.exit_code == 0, done.output


def test_a_connection_the_server_dropped_is_replaced_on_the_next_write(pg_url, postgres_server):
    """No ping per checkout: a dropped connection fails its statement, and the write is
    retried on a new one."""
    import psycopg

    save(pg_url, [result()])
    database = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(
        f"host=127.0.0.1 port={postgres_server.port} user=postgres", autocommit=True
    ) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (database,),
        )
    from vatio.record.context import RecordContext
    from vatio.record.recorder import Recorder

    recorder = Recorder(RecordContext.build(Profile(store=pg_url), {}))
    store = recorder.open_store()
    store.list_runs()  # a pooled connection
    with psycopg.connect(
        f"host=127.0.0.1 port={postgres_server.port} user=postgres", autocommit=True
    ) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (database,),
        )
    outcome = recorder.record([result()], begun=False)
    assert outcome.store_error is None and outcome.leaf_indices == [1]
