"""What a user asks a schedule for, parsed and bounded once, before any data is read.

`vatio schedule` and `vatio run --greenest` both go through `plan_request`, so
they accept the same values, refuse the same ones with the same sentence, and
plan with the same defaults (the minimum chunk of an interruptible plan is one
data step unless given: `vatio.schedule.windows.min_chunk_for`).

Bounds, all checked before any data is loaded:
- a start in the past is refused (a few minutes of slack count as "now");
- nothing is planned more than `MAX_AHEAD_DAYS` (366) days ahead: the
  typical-year proxy repeats one bundled year, so a longer search would only
  revisit the same hours, and no forecast reaches that far;
- a deadline after the end of a forecast file is refused by `check_coverage`
  (vatio cannot know the intensity after it); a live provider's horizon is
  only known once fetched, so the search then stops at its end, with a note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from vatio.errors import InputError

MAX_AHEAD_DAYS = 366
MAX_AHEAD_S = MAX_AHEAD_DAYS * 86400.0
#: an earliest start this little in the past is taken as "now" (the minute just typed)
PAST_SLACK_S = 300.0
DEFAULT_WITHIN = "24h"


def when_text(moment: datetime) -> str:
    """A time as the user reads it: local, with the year."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M %Z")


@dataclass(frozen=True)
class PlanRequest:
    """A schedule's bounds in UTC; `min_chunk_s` None means one data step."""

    duration_s: float
    earliest: datetime
    deadline: datetime
    deadline_given: bool
    min_chunk_s: float | None
    now: datetime


def _when(text: str, what: str) -> datetime:
    from vatio.units import parse_time

    return parse_time(text, what=what)


def _span_s(text: Any, what: str, *, allow_zero: bool = False) -> float:
    """Seconds of a length of time that must fit in the year vatio plans ahead."""
    from vatio.units import parse_duration

    seconds = parse_duration(text, what=what, allow_zero=allow_zero, maximum=math.inf)
    if seconds > MAX_AHEAD_S:
        raise InputError(
            f"The {what} {text!r} is more than {MAX_AHEAD_DAYS} days; vatio plans at most "
            "a year ahead.",
            f"Give at most {MAX_AHEAD_DAYS}d.",
        )
    return seconds


def plan_request(
    duration: Any,
    *,
    deadline: str | None = None,
    within: str | None = None,
    earliest: str | None = None,
    min_chunk: str | None = None,
    now: datetime | None = None,
) -> PlanRequest:
    """Parse the timing options (text as typed) and check their bounds; InputError if bad."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    horizon = now + timedelta(seconds=MAX_AHEAD_S)
    if duration is None or duration == "":
        raise InputError("No job length given.", "Add --duration, e.g. --duration 2h.")
    duration_s = _span_s(duration, "duration")
    if deadline is not None and within is not None:
        raise InputError("Give either --deadline or --within, not both.")
    start = now
    if earliest is not None:
        start = _when(earliest, "earliest start")
        if start < now - timedelta(seconds=PAST_SLACK_S):
            raise InputError(
                f"The earliest start {when_text(start)} is in the past.",
                "Give a time to come, or leave out --earliest to start from now.",
            )
        start = max(start, now)
        if start > horizon:
            raise InputError(
                f"The earliest start {when_text(start)} is more than {MAX_AHEAD_DAYS} days "
                "ahead; vatio plans at most a year ahead.",
                "Give an earlier --earliest.",
            )
    if deadline is not None:
        end = _when(deadline, "deadline")
        what = f"The deadline {when_text(end)}"
    else:
        given = DEFAULT_WITHIN if within is None else within
        end = start + timedelta(seconds=_span_s(given, "--within"))
        what = f"The deadline (earliest start + --within), {when_text(end)},"
        if within is None:
            end = min(end, horizon)
    if end > horizon:
        raise InputError(
            f"{what} is more than {MAX_AHEAD_DAYS} days ahead; vatio plans at most a year ahead.",
            "Give an earlier deadline.",
        )
    if end < start + timedelta(seconds=duration_s):
        raise InputError(
            f"The deadline {when_text(end)} is earlier than the earliest start "
            f"{when_text(start)} plus the duration ({duration_s / 3600:g} h).",
            "Move the deadline later, start earlier, or shorten the job.",
        )
    chunk_s = None
    if min_chunk is not None:
        chunk_s = _span_s(min_chunk, "--min-chunk", allow_zero=True)
    return PlanRequest(
        duration_s=duration_s,
        earliest=start,
        deadline=end,
        deadline_given=deadline is not None or within is not None,
        min_chunk_s=chunk_s,
        now=now,
    )


def check_coverage(request: PlanRequest, series: Any, what: str) -> None:
    """Refuse a deadline that the forecast `series` cannot vouch for.

    `what` names the data in sentences ("the forecast file fc.csv"). Without an
    explicit deadline, the default search span is cut to the data instead (the
    caller notes it).
    """
    end = series.end
    if end <= request.earliest + timedelta(seconds=request.duration_s):
        raise InputError(
            f"The data of {what} ends at {when_text(end)}, too early for a "
            f"{request.duration_s / 3600:g} h job starting at {when_text(request.earliest)}.",
            "Give a forecast of the hours to come.",
        )
    if request.deadline_given and end < request.deadline:
        raise InputError(
            f"The deadline {when_text(request.deadline)} is after the end of {what} "
            f"({when_text(end)}); vatio cannot know the intensity after it.",
            f"Give a deadline up to {when_text(end)}, or a longer forecast.",
        )
