"""The signed log as the run store keeps it: leaves, the log's state row, checkpoints.

A mixin of `RunStore`: it persists and reads what `vatio.record` computes (leaf hashes,
the compact range, signed checkpoints) and never signs or verifies anything itself. It
uses the store's `engine`, `is_sqlite`, `_retry` and `_fetch`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from vatio.errors import StoreError
from vatio.store.rows import LedgerState, LogAdvance, now_iso
from vatio.store.schema import ledger_checkpoints, ledger_leaves, ledger_state, runs

_INSERT_LEAF = ledger_leaves.insert()
_INSERT_STATE = ledger_state.insert()
_UPDATE_STATE = ledger_state.update().where(ledger_state.c.id == 1)
_INSERT_CHECKPOINT = ledger_checkpoints.insert()
_STATE = sa.select(ledger_state).where(ledger_state.c.id == 1)
_STATE_FOR_UPDATE = _STATE.with_for_update()
_LOCK_STATE = sa.text("LOCK TABLE ledger_state IN EXCLUSIVE MODE")


def _state_of(row: Any) -> LedgerState | None:
    """The log's state; None for an empty log (no row, or the empty row a new store has)."""
    if row is None or (int(row.size) == 0 and row.checkpoint is None):
        return None
    return LedgerState(int(row.size), row.frontier, row.checkpoint)


class LogRows:
    """The signed log's tables, for `RunStore`."""

    engine: Any
    is_sqlite: bool
    _retry: Any
    _fetch: Any

    def _append_leaves(
        self,
        conn: sa.Connection,
        entries: list[tuple[str, bytes, str | None]],
        advance: LogAdvance,
    ) -> tuple[list[int], str | None]:
        state, row_exists = self._locked_state(conn)
        start = state.size if state else 0
        leaves = [leaf for _, leaf, _ in entries]
        assert all(leaf is not None for leaf in leaves), "every logged record needs its leaf"
        new = advance(state, leaves)
        now = now_iso()
        conn.execute(
            _INSERT_LEAF,
            [
                {
                    "idx": start + i,
                    "run_id": run_id,
                    "leaf_hash": leaf.hex(),
                    "logged_at": now,
                    "note": note,
                }
                for i, (run_id, leaf, note) in enumerate(entries)
            ],
        )
        values = {"size": new.size, "frontier": new.frontier, "checkpoint": new.checkpoint}
        if not row_exists:
            conn.execute(_INSERT_STATE, {"id": 1, "updated_at": now, **values})
        else:
            conn.execute(_UPDATE_STATE, {"updated_at": now, **values})
        if new.checkpoint is not None:
            conn.execute(
                _INSERT_CHECKPOINT, {"size": new.size, "note": new.checkpoint, "created_at": now}
            )
        return [start + i for i in range(len(entries))], new.checkpoint

    def _locked_state(self, conn: sa.Connection) -> tuple[LedgerState | None, bool]:
        """The log's state, locked until the transaction ends, and whether its row exists.

        SQLite: the transaction holds the write lock already. PostgreSQL: `SELECT ... FOR
        UPDATE` of the state row (new stores are created with an empty one); a store
        without that row takes a table lock instead, since a row lock alone would not
        serialise the very first appenders (plain reads are never blocked by either).
        """
        if self.is_sqlite:
            row = conn.execute(_STATE).first()
        else:
            row = conn.execute(_STATE_FOR_UPDATE).first()
            if row is None:
                conn.execute(_LOCK_STATE)
                row = conn.execute(_STATE).first()
        return _state_of(row), row is not None

    def _ledger_state(self, conn: sa.Connection) -> LedgerState | None:
        return _state_of(conn.execute(_STATE).first())

    # -- the signed log, as stored ------------------------------------------------
    def ledger_state(self) -> LedgerState | None:
        def read() -> LedgerState | None:
            with self.engine.connect() as conn:
                return self._ledger_state(conn)

        return self._retry(read)

    def ledger_leaves(self) -> list[dict[str, Any]]:
        """Every leaf row in index order (idx, run_id, leaf_hash hex, logged_at, note)."""
        query = sa.select(ledger_leaves).order_by(ledger_leaves.c.idx)
        return self._retry(lambda: self._fetch(query))

    def ledger_leaf_hashes(self, start: int = 0) -> list[tuple[int, str, str]]:
        """(index, run id, leaf hash hex) of the leaves from `start` on, in index order."""
        query = (
            sa.select(ledger_leaves.c.idx, ledger_leaves.c.run_id, ledger_leaves.c.leaf_hash)
            .where(ledger_leaves.c.idx >= start)
            .order_by(ledger_leaves.c.idx)
        )

        def read() -> list[tuple[int, str, str]]:
            with self.engine.connect() as conn:
                return [tuple(row) for row in conn.execute(query)]

        return self._retry(read)

    def leaf_index(self, run_id: str) -> int | None:
        query = sa.select(ledger_leaves.c.idx).where(ledger_leaves.c.run_id == run_id)
        found = self._retry(lambda: self._fetch(query))
        return int(found[0]["idx"]) if found else None

    def leaf_count(self) -> int:
        """One more than the highest leaf index (the log's size when nothing is missing)."""
        query = sa.select(sa.func.max(ledger_leaves.c.idx).label("top"))
        top = self._retry(lambda: self._fetch(query))[0]["top"]
        return 0 if top is None else int(top) + 1

    def ledger_checkpoints(self) -> list[dict[str, Any]]:
        query = sa.select(ledger_checkpoints).order_by(ledger_checkpoints.c.size)
        return self._retry(lambda: self._fetch(query))

    def save_cosigned(self, size: int, note: str) -> None:
        """Replace the stored checkpoint of `size` by its co-signed form."""
        stmt = ledger_checkpoints.update().where(ledger_checkpoints.c.size == size)

        def write() -> None:
            with self.engine.begin() as conn:
                if conn.execute(stmt.values(note=note)).rowcount == 0:
                    raise StoreError(
                        f"The store's log never had a checkpoint of size {size}.",
                        "Co-sign a checkpoint written by `vatio ledger checkpoint` for this store.",
                    )
                conn.execute(
                    ledger_state.update()
                    .where(ledger_state.c.id == 1, ledger_state.c.size == size)
                    .values(checkpoint=note)
                )

        self._retry(write)

    def iter_logged_records(self, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Every row with its record text, for verification (id order, in batches)."""
        last = ""
        while True:
            query = (
                sa.select(runs).where(runs.c.id > last).order_by(runs.c.id).limit(batch)
            )  # fmt: skip
            rows = self._retry(lambda q=query: self._fetch(q))
            if not rows:
                return
            yield from rows
            last = rows[-1]["id"]

    def unlogged_finished(self) -> list[dict[str, Any]]:
        """Finished records that are not leaves of the log yet (e.g. after a migration)."""
        logged = sa.select(ledger_leaves.c.run_id)
        query = (
            sa.select(runs.c.id, runs.c.record, runs.c.started_at)
            .where(runs.c.status != "running", runs.c.record.is_not(None))
            .where(runs.c.id.not_in(logged))
            .order_by(runs.c.started_at, runs.c.id)
        )
        return self._retry(lambda: self._fetch(query))
