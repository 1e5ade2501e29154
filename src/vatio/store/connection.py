"""How the run store talks to its database: SQLite pragmas, and errors said safely.

Kept apart from `RunStore` (what is stored) so that its connection policy — WAL with a
long busy timeout for writers, `query_only` or `mode=ro` for readers — reads in one place.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa


def is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 60000")
    cursor.execute("PRAGMA case_sensitive_like = ON")  # patterns behave as on PostgreSQL
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def sqlite_readonly_pragmas(dbapi_connection, _record) -> None:
    """A reading store never writes: an ordinary connection (it can replay a write-ahead log
    left behind, which `mode=ro` cannot) with `query_only`, or `mode=ro` where the folder
    is read-only."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 60000")
    cursor.execute("PRAGMA query_only = ON")
    cursor.execute("PRAGMA case_sensitive_like = ON")
    cursor.close()


def hide_password(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        from vatio.redact import redact_url

        return redact_url(url) or url


def reason(error: Exception) -> str:
    from vatio.redact import redact_text

    text = str(getattr(error, "orig", None) or error).splitlines()[0] if str(error) else repr(error)
    return redact_text(text).rstrip(".")
