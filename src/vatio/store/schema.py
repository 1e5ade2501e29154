"""Tables of the run store.

Changes go through an Alembic migration in `store/migrations/versions/`, run when
a store is opened; bump SCHEMA_VERSION and HEAD_REVISION with each one.
Version 2: signed-log tables, `pid_started` (abandoned detection that survives
PID reuse), `username` and `project` columns, records as canonical JSON.
Version 3 (team stores): `group_id` (the logical run a multi-node part belongs to)
and indexes for the filters of `vatio runs list` and the fleet report.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text

from vatio.store.schema_version import HEAD_REVISION, REVISION_VERSIONS, SCHEMA_VERSION

__all__ = ["HEAD_REVISION", "REVISION_VERSIONS", "SCHEMA_VERSION", "metadata"]

metadata = MetaData()

meta = Table(
    "vatio_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False, default="run"),
    Column("parent_id", String(32), index=True),
    Column("name", String(256)),
    Column("command", Text),
    Column("status", String(16), nullable=False, index=True),
    Column("exit_code", Integer),
    Column("started_at", String(40), nullable=False, index=True),
    Column("ended_at", String(40)),
    Column("duration_s", Float),
    Column("energy_j", Float),
    Column("energy_low_j", Float),
    Column("energy_high_j", Float),
    Column("process_energy_j", Float),
    Column("co2e_g", Float),
    Column("method", String(128)),
    Column("zone", String(32)),
    Column("host", String(256)),
    Column("pid", Integer),
    Column("heartbeat_at", String(40)),
    Column("schema_version", Integer, nullable=False),
    Column("record", Text),
    Column("digest", String(64)),
    Column("pid_started", Float),
    Column("username", String(128)),
    Column("project", String(256)),
    #: the logical run of a multi-node job's part (launcher job id or --group)
    Column("group_id", String(128)),
    Index("ix_runs_kind_started", "kind", "started_at"),
    Index("ix_runs_group", "group_id"),
    Index("ix_runs_user_started", "username", "started_at"),
    Index("ix_runs_project_started", "project", "started_at"),
    Index("ix_runs_host_started", "host", "started_at"),
)

tags = Table(
    "tags",
    metadata,
    Column("tag", String(128), primary_key=True),
    Column("run_id", String(32), primary_key=True),
    Column("created_at", String(40), nullable=False),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("run_id", String(32), primary_key=True),
    Column("path", Text, nullable=False),
    Column("role", String(64)),
    Column("size", Integer),
    Column("created_at", String(40), nullable=False),
)

#: one leaf of the signed Merkle log per finished record, in append order
ledger_leaves = Table(
    "ledger_leaves",
    metadata,
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("run_id", String(32), nullable=False, unique=True),
    Column("leaf_hash", String(64), nullable=False),
    Column("logged_at", String(40), nullable=False),
    Column("note", String(64)),
)

#: the log's current size, compact range (frontier) and latest signed checkpoint (row id 1)
ledger_state = Table(
    "ledger_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", Integer, nullable=False),
    Column("frontier", Text, nullable=False),
    Column("checkpoint", Text),
    Column("updated_at", String(40), nullable=False),
)

#: every signed checkpoint, with the co-signatures added later
ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("size", Integer, primary_key=True, autoincrement=False),
    Column("note", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
)

#: the state row of an empty log, made with the store: appenders lock it (SELECT ... FOR
#: UPDATE) from the very first append on
EMPTY_LOG_STATE = {
    "id": 1,
    "size": 0,
    "frontier": "",
    "checkpoint": None,
    "updated_at": "1970-01-01T00:00:00Z",
}
