"""Shared fixtures: every test runs in its own folder with no VATIO_* settings."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    for name in ("VATIO_ZONE", "VATIO_STORE", "VATIO_PUE", "VATIO_INTERVAL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield
