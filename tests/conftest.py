"""Shared fixtures: every test runs in its own folder with no VATIO_* settings."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _user_config(tmp_path_factory):
    """One signing key for the whole session (as one machine has), never the real ~/.config;
    set for the session so that module-scoped fixtures use it too."""
    folder = tmp_path_factory.mktemp("xdg-config")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(folder))
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))
        yield folder


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch, _user_config):
    for name in ("VATIO_ZONE", "VATIO_STORE", "VATIO_PUE", "VATIO_INTERVAL", "VATIO_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(_user_config))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / ".xdg-state"))
    monkeypatch.chdir(tmp_path)
    yield
