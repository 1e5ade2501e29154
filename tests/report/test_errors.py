"""Bad input to `vatio report` and `vatio check`: one clear sentence and exit code 2."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.cli import helpers
from tests.report.inprocess import run_main
from tests.report.records import make_result, save
from vatio.store.runstore import RunStore
from vatio.store.schema import meta


@pytest.fixture
def vatio(capsys, monkeypatch):
    return lambda *args, store=None: run_main(capsys, monkeypatch, *args, store=store)


def _fails(done, *phrases: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.startswith("vatio: error:"), done.stderr
    assert "Traceback" not in done.stderr
    for phrase in phrases:
        assert phrase in done.stderr, done.stderr


def test_unknown_run_id_end_to_end(store, demo_run):
    done = helpers.vatio("report", "zzzz", store=store)
    _fails(done, "No run with id 'zzzz'", "vatio runs list")


def test_run_recorded_with_another_record_schema(vatio, store):
    record = save(store, make_result(schema_version=3))
    _fails(vatio("report", record["id"], store=store), "record schema version 3", "reads version 2")


def test_store_with_another_schema_version(vatio, store, demo_run):
    with sa.create_engine(f"sqlite:///{store}").begin() as conn:
        conn.execute(meta.update().values(value="99"))
    _fails(vatio("report", demo_run["id"], store=store), "schema version 99")
    _fails(vatio("check", store=store), "schema version 99")


def test_store_that_is_not_a_database(vatio, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    _fails(vatio("report", "abc", store=junk), "run store", "--store")
    _fails(vatio("check", store=junk), "not a database")


def test_missing_store_is_reported_and_not_created(vatio, tmp_path):
    _fails(vatio("report", "abc"), "no run store at .vatio/vatio.db")
    _fails(vatio("report", "abc", store=tmp_path / "elsewhere.db"), "elsewhere.db")
    assert not (tmp_path / ".vatio").exists() and not (tmp_path / "elsewhere.db").exists()


def test_run_still_running_has_nothing_to_report(vatio, store):
    result = make_result()
    RunStore(f"sqlite:///{store}").begin(
        result.id, kind="run", parent_id=None, name="train", command=None,
        started_at=result.started_at, zone=None,
    )  # fmt: skip
    _fails(vatio("report", result.id, store=store), "no energy figures yet")


def test_unwritable_output_and_several_runs_with_flops(vatio, store, demo_run, tmp_path):
    target = tmp_path / "missing-folder" / "r.html"
    _fails(vatio("report", demo_run["id"], "-o", str(target), store=store), "Cannot write")
    _fails(vatio("report", demo_run["id"], demo_run["id"], store=store), "more than once")
    _fails(vatio("report", demo_run["id"], demo_run["id"], "--flops", "5", store=store), "--flops")


def test_an_abandoned_run_is_reported_as_abandoned_with_its_last_heartbeat(vatio, store):
    result = make_result()
    run_store = RunStore(f"sqlite:///{store}")
    run_store.begin(
        result.id, kind="run", parent_id=None, name="train", command=["python", "t.py"],
        started_at=result.started_at, zone=None,
    )  # fmt: skip
    import sqlalchemy as sa

    with sa.create_engine(f"sqlite:///{store}").begin() as conn:  # its vatio is long gone
        conn.exec_driver_sql("UPDATE runs SET pid = 4194303, pid_started = 1.0")
    _fails(vatio("report", result.id, store=store), "was abandoned", "last heartbeat was")
