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
    # an empty log gets its state row, so that appenders can lock it from the first append
    state = sa.table(
        "ledger_state", *(sa.column(c) for c in ("id", "size", "frontier", "checkpoint",
                                                  "updated_at"))
    )  # fmt: skip
    conn = op.get_bind()
    if conn.execute(sa.select(state.c.id).where(state.c.id == 1)).first() is None:
        op.bulk_insert(state, [{"id": 1, "size": 0, "frontier": "", "checkpoint": None,
                                "updated_at": "1970-01-01T00:00:00Z"}])  # fmt: skip


def downgrade() -> None:
    raise NotImplementedError("vatio stores are not downgraded; keep a copy of the database")
