"""Schema version 2: the signed log, redacted records, features' sections as `extensions`.

Existing records are rewritten once: secrets masked (they were stored in clear),
`profile.scale` and `schedule` moved to `extensions`, canonical JSON with a new
digest. They join the signed log the next time vatio writes to the store, as
leaves marked "adopted": the log proves them from that moment on, not before.

Revision ID: 0002_trust
"""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

import sqlalchemy as sa
from alembic import op

from vatio.canonical import canonical_json, sha256_hex
from vatio.redact import redact_argv, redact_obj

revision = "0002_trust"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("pid_started", sa.Float))
        batch.add_column(sa.Column("username", sa.String(128)))
        batch.add_column(sa.Column("project", sa.String(256)))
    op.create_index("ix_runs_kind_started", "runs", ["kind", "started_at"])
    op.create_table(
        "ledger_leaves",
        sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.String(32), nullable=False, unique=True),
        sa.Column("leaf_hash", sa.String(64), nullable=False),
        sa.Column("logged_at", sa.String(40), nullable=False),
        sa.Column("note", sa.String(64)),
    )
    op.create_table(
        "ledger_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("frontier", sa.Text, nullable=False),
        sa.Column("checkpoint", sa.Text),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("size", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    conn = op.get_bind()
    runs = sa.table(
        "runs",
        *(sa.column(name) for name in ("id", "command", "record", "digest", "schema_version")),
        *(sa.column(name) for name in _SUMMARY),
    )
    for row in conn.execute(sa.select(runs.c.id, runs.c.command, runs.c.record)).fetchall():
        values: dict[str, Any] = {"schema_version": 2}
        if row.command:
            try:
                values["command"] = json.dumps(redact_argv(json.loads(row.command)))
            except (ValueError, TypeError):
                values["command"] = None
        if row.record:
            try:
                record = upgrade_record(json.loads(row.record))
            except (ValueError, TypeError):
                record = None  # malformed: left as found; `vatio ledger verify` names it
            if record is not None:
                text = canonical_json(record).decode("utf-8")
                values.update(record=text, digest=sha256_hex(record), **_summary(record))
        conn.execute(runs.update().where(runs.c.id == row.id).values(**values))
    meta = sa.table("vatio_meta", sa.column("key"), sa.column("value"))
    conn.execute(meta.update().where(meta.c.key == "schema_version").values(value="2"))
    op.bulk_insert(
        meta,
        [
            {"key": "store_id", "value": secrets.token_hex(8)},
            {"key": "ledger_adopt", "value": "pending"},
        ],
    )


#: summary columns, rewritten from the upgraded record so that both say the same
_SUMMARY = (
    "name", "status", "exit_code", "started_at", "ended_at", "duration_s", "energy_j",
    "energy_low_j", "energy_high_j", "process_energy_j", "co2e_g", "method",
)  # fmt: skip


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    totals = record.get("totals") or {}
    carbon = record.get("carbon") or {}
    values = {key: record.get(key) for key in _SUMMARY[:6]}
    values.update({key: totals.get(key) for key in _SUMMARY[6:10]})
    values["co2e_g"] = carbon.get("co2e_g")
    values["method"] = totals.get("method")
    if record.get("command"):
        values["command"] = json.dumps(record["command"])
    return {key: value for key, value in values.items() if value is not None or key != "status"}


def upgrade_record(record: Any) -> dict[str, Any] | None:
    """A version-1 record in version-2 form (None when it is not a record at all)."""
    if not isinstance(record, dict):
        return None
    record = _finite(redact_obj(record))
    extensions = dict(record.get("extensions") or {})
    profile = record.get("profile")
    if isinstance(profile, dict) and profile.get("scale") is not None:
        extensions["scale"] = profile.pop("scale")
    if record.get("schedule") is not None:
        extensions["schedule"] = record["schedule"]
    record.pop("schedule", None)
    record["extensions"] = extensions
    record.setdefault("overhead", None)
    record.setdefault("warnings", [])
    record.setdefault("signer", None)
    for phase in record.get("phases") or []:
        if isinstance(phase, dict):
            phase.setdefault("overhead_j", 0.0)
    record["schema_version"] = 2
    return record


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def downgrade() -> None:
    raise NotImplementedError("vatio stores are not downgraded; keep a copy of the file")
