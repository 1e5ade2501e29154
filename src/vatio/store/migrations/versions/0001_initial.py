"""Schema version 1: runs, tags, artifacts and the meta table, as vatio 0.1 created them.

Revision ID: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vatio_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("parent_id", sa.String(32), index=True),
        sa.Column("name", sa.String(256)),
        sa.Column("command", sa.Text),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("exit_code", sa.Integer),
        sa.Column("started_at", sa.String(40), nullable=False, index=True),
        sa.Column("ended_at", sa.String(40)),
        sa.Column("duration_s", sa.Float),
        sa.Column("energy_j", sa.Float),
        sa.Column("energy_low_j", sa.Float),
        sa.Column("energy_high_j", sa.Float),
        sa.Column("process_energy_j", sa.Float),
        sa.Column("co2e_g", sa.Float),
        sa.Column("method", sa.String(128)),
        sa.Column("zone", sa.String(32)),
        sa.Column("host", sa.String(256)),
        sa.Column("pid", sa.Integer),
        sa.Column("heartbeat_at", sa.String(40)),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("record", sa.Text),
        sa.Column("digest", sa.String(64)),
    )
    op.create_table(
        "tags",
        sa.Column("tag", sa.String(128), primary_key=True),
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "artifacts",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("role", sa.String(64)),
        sa.Column("size", sa.Integer),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.bulk_insert(
        sa.table("vatio_meta", sa.column("key"), sa.column("value")),
        [{"key": "schema_version", "value": "1"}],
    )


def downgrade() -> None:
    for table in ("artifacts", "tags", "runs", "vatio_meta"):
        op.drop_table(table)
