"""Reading runs from the store: lists, filters, one run by id or prefix, tags, groups,
artefacts.

A mixin of `RunStore` (as `LogRows` is for the signed log's tables): every query is
retried like the store's writes and returns plain dicts. It uses the store's `engine`,
`display_url` and `_retry`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa

from vatio.store.filters import RunFilter
from vatio.store.records import MalformedRecordError, pick_id, record_of_row, summary_of
from vatio.store.schema import artifacts, runs, tags

SUMMARY_COLUMNS = [c for c in runs.c if c.name != "record"]


class RunReads:
    """The reading queries of `RunStore`."""

    engine: Any
    display_url: str
    _retry: Any

    def tagged(self, tag: str) -> list[str]:
        query = (
            sa.select(tags.c.run_id, runs.c.started_at)
            .join(runs, runs.c.id == tags.c.run_id)
            .where(tags.c.tag == tag)
            .order_by(runs.c.started_at)
        )
        return [row["run_id"] for row in self._retry(lambda: self._fetch(query))]

    def resolve_ref(self, ref: str) -> list[str]:
        """Run ids for a tag, the parts of a logical run (group id), or the one run an id
        (prefix) names."""
        ids = self.tagged(ref)
        if ids:
            return ids
        parts = [row["id"] for row in self.group_summaries(ref)]
        return parts if parts else [self.resolve_id(ref)]

    def group_summaries(self, group_id: str) -> list[dict[str, Any]]:
        """Summary rows of a logical run's parts (empty when no run has that group id)."""
        query = (
            sa.select(*SUMMARY_COLUMNS)
            .where(runs.c.group_id == group_id)
            .order_by(runs.c.started_at, runs.c.id)
        )
        return [self._summary(r) for r in self._retry(lambda: self._fetch(query))]

    def find_artifact(self, sha256: str) -> list[dict[str, Any]]:
        query = (
            sa.select(artifacts, runs.c.name, runs.c.started_at, runs.c.status)
            .join(runs, runs.c.id == artifacts.c.run_id)
            .where(artifacts.c.sha256 == sha256)
            .order_by(runs.c.started_at)
        )
        return self._retry(lambda: self._fetch(query))

    # -- reading ----------------------------------------------------------------
    def list_runs(
        self,
        limit: int | None = 50,
        status: str | None = None,
        kind: str | None = None,
        hide_kinds: tuple[str, ...] = (),
        parent_id: str | None = None,
        where: RunFilter | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first; `kind` selects one kind, `hide_kinds` leaves some out, `where`
        filters by user, project, host, group and start time (served by indexes)."""
        query = sa.select(*SUMMARY_COLUMNS).order_by(runs.c.started_at.desc(), runs.c.id)
        if kind:
            query = query.where(runs.c.kind == kind)
        elif hide_kinds:
            query = query.where(runs.c.kind.not_in(hide_kinds))
        if parent_id:
            query = query.where(runs.c.parent_id == parent_id)
        if where is not None:
            query = query.where(*where.clauses(runs))
        if status and status not in ("running", "abandoned"):
            query = query.where(runs.c.status == status)
        elif status:
            query = query.where(runs.c.status == "running")
        if limit and status not in ("running", "abandoned"):  # those two are told apart below
            query = query.limit(limit)
        rows = self._retry(lambda: self._fetch(query))
        summaries = [self._summary(row) for row in rows]
        if status:
            summaries = [s for s in summaries if s["status"] == status]
            if limit:
                summaries = summaries[:limit]
        return summaries

    def finished_rows(self, where: RunFilter, columns: tuple[str, ...]) -> list[dict[str, Any]]:
        """Summary columns of finished runs (no record text), oldest first: the fleet view."""
        query = (
            sa.select(*(runs.c[name] for name in columns))
            .where(runs.c.status != "running", *where.clauses(runs))
            .order_by(runs.c.started_at, runs.c.id)
        )
        return self._retry(lambda: self._fetch(query))

    def group_rows(self, group_id: str) -> list[dict[str, Any]]:
        """The parts of a logical run (a multi-node job), oldest first, record text included."""
        query = sa.select(runs).where(runs.c.group_id == group_id).order_by(runs.c.started_at)
        return self._retry(lambda: self._fetch(query))

    def rows_by_id(self, run_ids: list[str], batch: int = 500) -> Iterator[dict[str, Any]]:
        """Full rows (record text included) of many runs, read `batch` ids at a time."""
        for start in range(0, len(run_ids), batch):
            query = sa.select(runs).where(runs.c.id.in_(run_ids[start : start + batch]))
            yield from self._retry(lambda q=query: self._fetch(q))

    def _fetch(self, query: sa.Select) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            result = conn.execute(query)
            keys = list(result.keys())
            return [dict(zip(keys, row, strict=True)) for row in result]

    def _summary(self, row: dict[str, Any]) -> dict[str, Any]:
        return summary_of(row)

    def resolve_id(self, run_id: str) -> str:
        """The full id for an id or a unique prefix of one."""
        query = sa.select(runs.c.id).where(runs.c.id.startswith(run_id, autoescape=True)).limit(3)
        matches = [r["id"] for r in self._retry(lambda: self._fetch(query))]
        return pick_id(run_id, matches, self.display_url)

    def row(self, run_id: str) -> dict[str, Any]:
        """The raw row of one run (id or unique prefix), record text included."""
        full_id = self.resolve_id(run_id)
        query = sa.select(runs).where(runs.c.id == full_id)
        return self._retry(lambda: self._fetch(query))[0]

    def get(self, run_id: str) -> dict[str, Any]:
        """The full record of one run (id or unique prefix), with its display status."""
        return record_of_row(self.row(run_id), self.display_url)

    def iter_records(
        self, on_malformed: Callable[[str, str], None] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every record, newest first; a malformed one goes to `on_malformed(id, reason)`."""
        for summary in self.list_runs(limit=None):
            try:
                yield self.get(summary["id"])
            except MalformedRecordError as error:
                if on_malformed is None:
                    raise
                on_malformed(summary["id"], error.message)
