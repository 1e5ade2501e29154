"""The store's schema version, readable without importing SQLAlchemy."""

from __future__ import annotations

SCHEMA_VERSION = 3
#: the Alembic revision of SCHEMA_VERSION (tests check it is the migrations' head)
HEAD_REVISION = "0003_team"
#: SCHEMA_VERSION of each revision, for `vatio store migrate` to explain what it did
REVISION_VERSIONS = {"0001_initial": 1, "0002_trust": 2, "0003_team": 3}
