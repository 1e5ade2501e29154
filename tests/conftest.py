"""Shared fixtures: every test runs in its own folder with no VATIO_* settings."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest


@pytest.fixture(scope="session", autouse=True)
def _user_config(tmp_path_factory):
    """One signing key for the whole session (as one machine has), never the real ~/.config;
    set for the session so that module-scoped fixtures use it too."""
    folder = tmp_path_factory.mktemp("xdg-config")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(folder))
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))
        # the session's `vatio run` commands share one resident recorder of their own (not
        # the user's), which is stopped when the session ends
        resident = tempfile.mkdtemp(prefix="vatio-test-recorder-")
        os.chmod(resident, 0o700)
        patch.setenv("VATIO_RESIDENT_DIR", resident)
        patch.setenv("VATIO_RESIDENT_IDLE", "30")  # an interrupted session leaves none for long
        try:
            yield folder
        finally:
            from vatio.cli import resident as client

            client.ask("stop")
            shutil.rmtree(resident, ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch, _user_config):
    for name in ("VATIO_ZONE", "VATIO_STORE", "VATIO_PUE", "VATIO_INTERVAL", "VATIO_KEY",
                 "VATIO_HOSTNAME", "VATIO_PROJECT"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(_user_config))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / ".xdg-state"))
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the session (started once, ~1 s); skipped with the reason
    when the server binaries or psycopg are missing, failed instead under
    VATIO_REQUIRE_POSTGRES=1 (CI installs them)."""
    from tests.postgres import REQUIRE_ENV, PostgresServer, missing_reason

    reason = missing_reason()
    if reason is None:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            reason = "psycopg is not installed (pip install 'vatio[postgres]')"
    if reason is not None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
        pytest.skip(reason)
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres_server) -> str:
    """A fresh, empty PostgreSQL database (SQLAlchemy URL, psycopg 3 driver)."""
    return postgres_server.new_database()
