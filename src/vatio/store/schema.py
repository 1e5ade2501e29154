"""Tables of the run store. Bump SCHEMA_VERSION when a column changes meaning."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text

SCHEMA_VERSION = 1

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
