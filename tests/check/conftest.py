"""Checklist contexts built directly from records, without a store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.report.records import make_result
from vatio.report.checklist.context import Context
from vatio.report.settings import Settings


def record(kind: str = "run", **fields: Any) -> dict[str, Any]:
    """A completed run record as the store returns it (with its kind)."""
    schedule = fields.pop("schedule", None)
    data = make_result(**fields).to_dict()
    data["kind"] = kind
    if schedule is not None:
        data["extensions"] = {**data.get("extensions", {}), "schedule": schedule}
    return data


def summary_of(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": rec["id"],
        "kind": rec["kind"],
        "status": rec["status"],
        "started_at": rec["started_at"],
        "command": rec["command"],
    }


@pytest.fixture
def make_context(tmp_path):
    def build(
        records: list[dict[str, Any]] = (),
        *,
        extra_summaries: list[dict[str, Any]] = (),
        installed: dict[str, str] | None = None,
        environment: dict[str, Any] | None = None,
        check: dict[str, Any] | None = None,
        profile: dict[str, Any] | None = None,
        profile_path: Path | None = None,
    ) -> Context:
        settings = Settings(
            store=None, profile_path=profile_path, check=dict(check or {}), profile=profile or {}
        )
        return Context(
            root=tmp_path,
            settings=settings,
            store_label="test.db",
            summaries=[summary_of(r) for r in records] + list(extra_summaries),
            records=list(records),
            installed={"numpy": "2.0.0"} if installed is None else installed,
            environment=environment or {"kinds": ["venv"], "prefix": "/p"},
            gpu_capabilities=[],
        )

    return build
