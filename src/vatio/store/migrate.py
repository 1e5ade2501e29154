"""Bring a store's schema to this vatio's version: create it, or run Alembic's migrations.

Opening an up-to-date store costs one small query and never imports Alembic.
A new store is created from the table definitions and stamped with the head
revision; an older one is upgraded by the migrations in `store/migrations/`.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from vatio.errors import StoreError
from vatio.store.schema import (
    EMPTY_LOG_STATE,
    HEAD_REVISION,
    SCHEMA_VERSION,
    ledger_state,
    meta,
    metadata,
)

alembic_version = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), primary_key=True),
)


@dataclass(frozen=True)
class SchemaState:
    """What a store holds: its schema version (None when empty) and meta values."""

    version: int | None
    meta: dict[str, str]


def read_state(conn: sa.Connection, where: str) -> SchemaState:
    """The store's schema version and meta table; a clear error when it is garbage."""
    try:
        rows = conn.execute(sa.select(meta.c.key, meta.c.value)).fetchall()
    except (OperationalError, ProgrammingError) as error:
        if _missing_table(error):
            conn.rollback()
            return SchemaState(None, {})
        raise
    values = {row.key: row.value for row in rows}
    raw = values.get("schema_version")
    if raw is None:
        return SchemaState(None, values)
    try:
        version = int(raw)
    except (TypeError, ValueError):
        raise StoreError(
            f"The store {where} has a schema version that is not a number ({raw[:40]!r}).",
            "It was damaged or edited; restore it from a copy, or use a new store with --store.",
        ) from None
    if version < 1:
        raise StoreError(
            f"The store {where} has an impossible schema version ({version}).",
            "It was damaged or edited; restore it from a copy, or use a new store with --store.",
        )
    return SchemaState(version, values)


def _missing_table(error: Exception) -> bool:
    text = str(getattr(error, "orig", error)).lower()
    return "no such table" in text or "does not exist" in text or "undefinedtable" in text


def ensure_schema(engine: sa.Engine, where: str, attempts: int = 40) -> SchemaState:
    """Create or upgrade the schema; returns the state once it is current.

    Nothing may be written to a store before its schema is current: several processes that
    open a new SQLite store at once race to create it (SQLite runs DDL outside the creating
    transaction), and a loser returns before the winner has committed. So every process
    waits here until it reads the current version itself."""
    delay = 0.02
    for _ in range(attempts):
        with engine.connect() as conn:
            state = read_state(conn, where)
        if state.version == SCHEMA_VERSION:
            return state
        if state.version is not None and state.version > SCHEMA_VERSION:
            raise StoreError(
                f"The store {where} has schema version {state.version}, newer than this vatio "
                f"reads ({SCHEMA_VERSION}).",
                "Upgrade vatio (pip install -U vatio), or use another store with --store.",
            )
        with _schema_lock(engine):
            with engine.connect() as conn:  # another process may have done it while we waited
                state = read_state(conn, where)
            if state.version is None:
                _create(engine)
            elif state.version < SCHEMA_VERSION:
                upgrade(engine)
        with engine.connect() as conn:
            state = read_state(conn, where)
        if state.version == SCHEMA_VERSION:
            return state
        time.sleep(delay)  # another process is creating it: read again once it has
        delay = min(delay * 2, 0.5)
    raise StoreError(
        f"The store {where} did not reach schema version {SCHEMA_VERSION} (it reads "
        f"{state.version}) while other processes were creating it.",
        "Run the command again; if it persists, `vatio store migrate` says what is wrong.",
    )


#: key of the PostgreSQL advisory lock held while a schema is created or upgraded
SCHEMA_LOCK_KEY = 0x7661_7469_6F00  # "vatio\0"


@contextlib.contextmanager
def _schema_lock(engine: sa.Engine) -> Iterator[None]:
    """On PostgreSQL, one process at a time creates or upgrades the schema (many nodes of a
    job may open a new team store at once); SQLite's own write lock serialises it there."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK_KEY})
            conn.commit()


def _create(engine: sa.Engine) -> None:
    """A new store: tables from the definitions, stamped with the head revision."""
    try:
        with engine.begin() as conn:
            metadata.create_all(conn, checkfirst=True)
            alembic_version.create(conn, checkfirst=True)
            found = conn.execute(
                sa.select(meta.c.value).where(meta.c.key == "schema_version")
            ).scalar()
            if found is not None:
                return  # another process created it meanwhile
            conn.execute(
                meta.insert(),
                [
                    {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                    {"key": "store_id", "value": secrets.token_hex(8)},
                ],
            )
            conn.execute(alembic_version.delete())
            conn.execute(alembic_version.insert().values(version_num=HEAD_REVISION))
            conn.execute(ledger_state.insert().values(EMPTY_LOG_STATE))
    except (IntegrityError, OperationalError, ProgrammingError) as error:
        if "already exists" in str(error) or isinstance(error, IntegrityError):
            return  # lost a creation race: the winner's schema is the same
        raise


def upgrade(engine: sa.Engine, target: str = "head") -> list[str]:
    """Run the Alembic migrations up to `target`; returns the revisions applied."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    config = Config()
    config.set_main_option("script_location", "vatio.store:migrations")
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        version = read_state(conn, "").version if current is None else None
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        if current is None and version == 1:  # made by vatio 0.1, before Alembic: that is 0001
            command.stamp(config, "0001_initial")
            current = "0001_initial"
        command.upgrade(config, target)
        after = MigrationContext.configure(conn).get_current_revision()
    return [] if after == current else [rev for rev in (current, after) if rev]
