"""Stores of every earlier schema open, upgrade and keep their runs (with secrets masked)."""

from __future__ import annotations

import json
import sqlite3

import pytest
import sqlalchemy as sa

from tests.cli.helpers import KEPT
from vatio.errors import StoreError
from vatio.store.migrate import upgrade
from vatio.store.runstore import RunStore
from vatio.store.schema import HEAD_REVISION, SCHEMA_VERSION

V1_RECORD = {
    "id": "aaaaaaaaaaaa",
    "name": "old",
    "command": ["python", "train.py", "--token", "T0KEN-SECRET", "https://u:PW-SECRET@h/x"],
    "status": "completed",
    "started_at": "2026-11-20T10:00:00Z",
    "ended_at": "2026-11-20T10:01:00Z",
    "duration_s": 60.0,
    "devices": [
        {
            "name": "cpu:estimated", "device": "cpu", "method": "estimated:tdp",
            "energy_j": 600.0, "low_j": 300.0, "high_j": 900.0, "process_energy_j": 500.0,
        }
    ],
    "phases": [],
    "work": {},
    "profile": {"zone": "ES", "store": "postgresql://me:DB-SECRET@db/v", "scale": {"x": 1}},
    "schedule": {"mode": "window"},
    "manifest": {"command": ["python", "train.py", "--token", "T0KEN-SECRET"]},
    "schema_version": 1,
    "totals": {"energy_j": 600.0, "method": "estimated:tdp"},
}  # fmt: skip


def _v1_store(path, *, with_alembic: bool) -> str:
    """A store as vatio 0.1 left it (no alembic_version table) or stamped at 0001."""
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    upgrade(engine, "0001_initial")
    with engine.begin() as conn:
        if not with_alembic:
            conn.exec_driver_sql("DROP TABLE alembic_version")
        conn.exec_driver_sql(
            "INSERT INTO runs (id, kind, status, started_at, schema_version, record, command, "
            "digest) VALUES (?, 'run', 'completed', ?, 1, ?, ?, 'x')",
            (
                V1_RECORD["id"],
                V1_RECORD["started_at"],
                json.dumps(V1_RECORD),
                json.dumps(V1_RECORD["command"]),
            ),
        )
        conn.exec_driver_sql(
            "INSERT INTO runs (id, kind, status, started_at, schema_version, record) "
            "VALUES ('bbbbbbbbbbbb', 'run', 'completed', '2026-11-21T00:00:00Z', 1, '{broken')"
        )
    engine.dispose()
    return url


@pytest.mark.parametrize("with_alembic", [False, True])
def test_version_1_store_is_upgraded_and_its_secrets_masked(tmp_path, with_alembic):
    path = tmp_path / "old.db"
    store = RunStore(_v1_store(path, with_alembic=with_alembic))
    assert store.state.version == SCHEMA_VERSION
    record = store.get("aaaaaaaaaaaa")
    assert record["schema_version"] == 2
    assert record["extensions"] == {"scale": {"x": 1}, "schedule": {"mode": "window"}}
    assert "scale" not in record["profile"] and "schedule" not in record
    assert record["command"][3] == "***" and "***@h" in record["command"][4]
    assert record["summary"]["command"][3] == "***"
    raw = path.read_bytes()
    for secret in (b"T0KEN-SECRET", b"PW-SECRET", b"DB-SECRET"):
        assert secret not in raw or _only_in_free_pages(path, secret)
    with sqlite3.connect(path) as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == HEAD_REVISION
    assert store.state.meta["ledger_adopt"] == "pending"


def _only_in_free_pages(path, secret: bytes) -> bool:
    """Deleted rows may linger in free pages until VACUUM; a live row must not hold them."""
    with sqlite3.connect(path) as conn:
        for (text,) in conn.execute("SELECT coalesce(record,'') || coalesce(command,'') FROM runs"):
            if secret.decode() in text:
                return False
    return True


def test_adopted_records_join_the_signed_log_on_the_next_write(tmp_path):
    from tests.measure.fakes import ConstantPowerSensor
    from vatio.api import Tracker
    from vatio.config import Profile
    from vatio.record.audit import trusted_verifiers, verify_store

    url = _v1_store(tmp_path / "old.db", with_alembic=False)
    with Tracker(store=url, sensors=[ConstantPowerSensor()]):
        pass
    store = RunStore(url)
    leaves = store.ledger_leaves()
    assert [row["note"] for row in leaves][:1] == ["adopted"]
    audit = verify_store(store, trusted_verifiers(Profile()))
    problems = [(p.kind, p.where) for p in audit.report.problems]
    # the broken record was never logged: named as such, never a traceback
    assert problems == [("malformed", "run bbbbbbbbbbbb")]
    assert store.state.meta["ledger_adopt"] == "done"


def test_head_revision_is_the_migrations_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "vatio.store:migrations")
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_new_store_is_stamped_without_alembic(tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 'new.db'}")
    with sqlite3.connect(tmp_path / "new.db") as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == HEAD_REVISION and store.state.version == SCHEMA_VERSION
    assert len(store.store_id) == 16


@pytest.mark.parametrize("garbage", ["banana", "", "-3", "0", "1e999"])
def test_garbage_schema_version_is_a_clear_error(tmp_path, garbage):
    url = f"sqlite:///{tmp_path / 'v.db'}"
    RunStore(url)
    with sqlite3.connect(tmp_path / "v.db") as conn:
        conn.execute("UPDATE vatio_meta SET value=? WHERE key='schema_version'", (garbage,))
    with pytest.raises(StoreError, match="schema version"):
        RunStore(url)


def test_newer_schema_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'v.db'}"
    RunStore(url)
    with sqlite3.connect(tmp_path / "v.db") as conn:
        conn.execute("UPDATE vatio_meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(StoreError, match="newer than this vatio"):
        RunStore(url)


def test_read_only_store_is_readable(tmp_path):
    """A store on a read-only mount: listing and showing work; recording says the store is
    read-only and keeps the run as unsaved JSON. A real read-only bind mount (needs root,
    as the test machines run); skipped where mounting is not allowed."""
    import os
    import subprocess
    import sys

    from tests.measure.fakes import ConstantPowerSensor
    from vatio.api import Tracker

    source, mount = tmp_path / "source", tmp_path / "mount"
    source.mkdir()
    mount.mkdir()
    with Tracker(store=str(source / "v.db"), sensors=[ConstantPowerSensor()]) as tracker:
        pass
    bound = subprocess.run(["mount", "--bind", str(source), str(mount)], capture_output=True)
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount here ({bound.stderr.decode().strip()[:80]})")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("VATIO_") or k in KEPT}
        env["VATIO_STORE"] = str(mount / "v.db")

        def vatio(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "vatio", *args], env=env, cwd=tmp_path,
                                  capture_output=True, text=True, timeout=120)  # fmt: skip

        listed = vatio("runs", "list", "--json")
        assert listed.returncode == 0 and tracker.result.id in listed.stdout, listed.stderr
        shown = vatio("runs", "show", tracker.result.id)
        assert shown.returncode == 0, shown.stderr
        recorded = vatio("run", "--", "true")
        assert recorded.returncode == 0  # the job's exit code, whatever the store
        assert "could not be written" in recorded.stderr and "read-only" in recorded.stderr
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def test_version_2_store_with_a_signed_log_is_upgraded_and_still_verifies(tmp_path):
    """A store of schema 2 (before team stores) gains group_id and the filter indexes; its
    records and their leaves are untouched, so the signed log still verifies."""
    from tests.measure.fakes import ConstantPowerSensor
    from vatio.api import Tracker
    from vatio.config import Profile
    from vatio.record.audit import trusted_verifiers, verify_store

    path = tmp_path / "v2.db"
    with Tracker("old", store=str(path), sensors=[ConstantPowerSensor()]) as tracker:
        pass
    with sqlite3.connect(path) as conn:  # back to schema 2, as vatio with 0002_trust left it
        for index in ("ix_runs_group", "ix_runs_user_started", "ix_runs_project_started",
                      "ix_runs_host_started"):  # fmt: skip
            conn.execute(f"DROP INDEX {index}")
        conn.execute("ALTER TABLE runs DROP COLUMN group_id")
        conn.execute("UPDATE vatio_meta SET value='2' WHERE key='schema_version'")
        conn.execute("UPDATE alembic_version SET version_num='0002_trust'")
    store = RunStore(f"sqlite:///{path}")
    assert store.state.version == SCHEMA_VERSION == 3
    with sqlite3.connect(path) as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(runs)")}
    assert revision == HEAD_REVISION
    assert {"ix_runs_group", "ix_runs_user_started", "ix_runs_host_started"} <= indexes
    (row,) = store.list_runs()
    assert row["id"] == tracker.run_id and row["group_id"] is None
    audit = verify_store(store, trusted_verifiers(Profile()))
    assert audit.report.ok and audit.report.size == 1
