"""Schema version 3: team stores and multi-node jobs.

`group_id` names the logical run a part of a multi-node job belongs to (its
launcher's job id, or `--group`); indexes serve `vatio runs list --user/--project/
--host/--since` and the fleet report. Nothing else changes: records are kept as
they are (a record's leaf in the signed log must keep hashing the same bytes).

Revision ID: 0003_team
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_team"
down_revision = "0002_trust"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_runs_group": ["group_id"],
    "ix_runs_user_started": ["username", "started_at"],
    "ix_runs_project_started": ["project", "started_at"],
    "ix_runs_host_started": ["host", "started_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("group_id", sa.String(128)))
    for name, columns in INDEXES.items():
        op.create_index(name, "runs", columns)
    meta = sa.table("vatio_meta", sa.column("key"), sa.column("value"))
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="3"))


def downgrade() -> None:
    raise NotImplementedError("vatio stores are not downgraded; keep a copy of the database")
