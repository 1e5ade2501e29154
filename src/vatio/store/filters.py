"""Filters of `vatio runs list` and the fleet report, checked before any query runs.

Names match exactly; `*` and `?` make a pattern (SQL LIKE underneath, so the
indexes on (username|project|host, started_at) serve them), case-sensitive on
every database. `--since` takes a length of time back from now (7d, 12h, 1d12h)
or a UTC date or time (2026-11-01, 2026-11-01T08:00).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from vatio.errors import InputError

#: longest user, project and host values the store keeps
LIMITS = {"user": 128, "project": 256, "host": 256, "group": 128}


@dataclass(frozen=True)
class RunFilter:
    """Which runs: each set field narrows the selection (None: any)."""

    user: str | None = None
    project: str | None = None
    host: str | None = None
    group: str | None = None
    #: inclusive lower bound of started_at, ISO 8601 UTC ("...Z")
    since: str | None = None

    def clauses(self, runs: Any) -> list[Any]:
        """SQLAlchemy conditions on the runs table."""
        found = []
        for value, column in (
            (self.user, runs.c.username),
            (self.project, runs.c.project),
            (self.host, runs.c.host),
            (self.group, runs.c.group_id),
        ):
            if value is None:
                continue
            if has_wildcards(value):
                found.append(column.like(glob_to_like(value), escape="\\"))
            else:
                found.append(column == value)
        if self.since is not None:
            found.append(runs.c.started_at >= self.since)
        return found

    def sql(self) -> tuple[list[str], list[Any]]:
        """The same conditions as SQL text with `?` parameters (the sqlite3 read path)."""
        found: list[str] = []
        params: list[Any] = []
        for value, column in (
            (self.user, "username"),
            (self.project, "project"),
            (self.host, "host"),
            (self.group, "group_id"),
        ):
            if value is None:
                continue
            if has_wildcards(value):
                found.append(f"{column} LIKE ? ESCAPE '\\'")
                params.append(glob_to_like(value))
            else:
                found.append(f"{column} = ?")
                params.append(value)
        if self.since is not None:
            found.append("started_at >= ?")
            params.append(self.since)
        return found, params


def has_wildcards(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def glob_to_like(pattern: str) -> str:
    """A shell-style pattern (* and ?) as a LIKE pattern with `\\` as the escape."""
    out = []
    for char in pattern:
        if char in "\\%_":
            out.append("\\" + char)
        elif char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        else:
            out.append(char)
    return "".join(out)


def check_name(value: str | None, option: str, field: str) -> str | None:
    """A user, project, host or group value or pattern, or an InputError naming the option."""
    if value is None:
        return None
    limit = LIMITS[field]
    if not value.strip():
        raise InputError(f"{option} is empty.", f"Give a {field} name, or leave {option} out.")
    if len(value) > limit or not value.isprintable():
        raise InputError(
            f"{option} {value[:40]!r} is too long or holds control characters.",
            f"Give a {field} name of at most {limit} printable characters.",
        )
    if "[" in value or "]" in value:
        raise InputError(
            f"{option} {value!r} uses a character class ([...]), which vatio's patterns do not "
            "support.",
            "Use * (any characters) and ? (one character), e.g. --host 'gpu-*'.",
        )
    if field == "group" and has_wildcards(value):
        raise InputError(
            f"{option} {value!r} is a pattern; a group is named exactly.",
            "Give the group id that `vatio runs list --json` shows in group_id.",
        )
    return value


def parse_since(
    text: str | None, now: datetime | None = None, option: str = "--since"
) -> str | None:
    """The ISO UTC bound for `text`: a length of time back from now, or a UTC date/time."""
    if text is None:
        return None
    now = now or datetime.now(UTC)
    value = text.strip()
    if not value:
        raise InputError(f"{option} is empty.", "Give e.g. 7d, 12h or a date such as 2026-11-01.")
    when = _as_date(value, option)
    if when is None:
        from vatio.units import parse_duration

        try:
            seconds = parse_duration(value, what=option, allow_zero=False)
        except InputError as error:
            if error.message.startswith("Cannot read"):  # not a length: say what else works
                raise InputError(
                    f"{option} {text!r} is neither a length of time nor a date.",
                    "Give e.g. 7d, 12h, 1d12h, or a UTC date such as 2026-11-01.",
                ) from None
            raise error from None
        when = now - timedelta(seconds=seconds)
    elif when > now + timedelta(minutes=5):
        raise InputError(
            f"{option} {text} is in the future (it is {iso(now)[:16]} UTC now).",
            "Give a past date, or a length of time such as 7d.",
        )
    return iso(when)


def _as_date(value: str, option: str) -> datetime | None:
    if not (len(value) >= 10 and value[4:5] == "-" and value[:4].isdigit()):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise InputError(
            f"{option} {value!r} is not a date vatio reads.",
            "Give a UTC date such as 2026-11-01 or 2026-11-01T08:00, or a length such as 7d.",
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def iso(when: datetime) -> str:
    """The fixed-width form runs are stored in (microseconds always present)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
