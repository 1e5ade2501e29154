"""Team-store tests run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def team_url(request, tmp_path) -> str:
    """A new, empty store: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'team.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(autouse=True)
def _node_locks(tmp_path, monkeypatch):
    """Per-node measuring slots in the test's folder, not the machine's temp folder."""
    monkeypatch.setenv("VATIO_NODE_LOCK_DIR", str(tmp_path / "node-locks"))
