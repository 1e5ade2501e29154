"""`plan_request` and `check_coverage`: one set of bounds for every way of planning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from vatio.carbon.forecast import PROXY_MAX_HOURS, typical_year_proxy
from vatio.carbon.intensity import IntensitySeries
from vatio.errors import InputError
from vatio.schedule import min_chunk_for
from vatio.schedule.request import MAX_AHEAD_DAYS, check_coverage, plan_request

NOW = datetime(2027, 3, 10, 8, 30, 15, tzinfo=UTC)


def test_defaults_start_now_for_a_day_with_one_step_chunks():
    request = plan_request("2h", now=NOW)
    assert request.earliest == NOW and request.deadline == NOW + timedelta(hours=24)
    assert request.duration_s == 7200 and not request.deadline_given
    assert request.min_chunk_s is None  # one data step, decided by min_chunk_for
    hourly = IntensitySeries("ES", np.arange(3) * 3600.0, np.ones(3), 3600.0, "test")
    assert min_chunk_for(hourly, request.min_chunk_s) == 3600
    assert min_chunk_for(hourly, 0) == 0 and min_chunk_for(hourly, timedelta(minutes=30)) == 1800


def test_a_start_just_past_counts_as_now_but_older_ones_are_refused():
    request = plan_request("1h", earliest="2027-03-10T08:27Z", now=NOW)
    assert request.earliest == NOW
    with pytest.raises(InputError, match=r"earliest start 2027-03-10 0\d:\d\d .* is in the past"):
        plan_request("1h", earliest="2027-03-10T08:20Z", now=NOW)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"deadline": "2028-03-11T00:00Z"}, "more than 366 days ahead"),
        ({"earliest": "2028-03-11T00:00Z"}, "more than 366 days ahead"),
        ({"earliest": "2028-03-01T00:00Z", "within": "30d"}, r"earliest start \+ --within"),
        ({"within": "367d"}, "more than 366 days"),
        ({"within": "100000000000d"}, "more than 366 days"),
        ({"min_chunk": "400d"}, "more than 366 days"),
        ({"deadline": "2027-03-10T09:00Z"}, "earlier than the earliest start"),
        ({"deadline": "x", "within": "1h"}, "either --deadline or --within"),
        ({"within": ""}, "Cannot read the --within"),
        ({"deadline": ""}, "Cannot read the deadline"),
        ({"earliest": ""}, "Cannot read the earliest start"),
        ({"deadline": "0001-01-01 00:00"}, "out of the range of dates"),
    ],
)
def test_bounds(options, message):
    with pytest.raises(InputError, match=message):
        plan_request("2h", now=NOW, **options)


def test_a_year_ahead_is_the_limit_and_the_default_day_is_cut_to_it():
    last = NOW + timedelta(days=MAX_AHEAD_DAYS)
    request = plan_request("2h", deadline=last.isoformat(), now=NOW)
    assert request.deadline == last and request.deadline_given
    request = plan_request("2h", earliest=(last - timedelta(hours=3)).isoformat(), now=NOW)
    assert request.deadline == last  # not earliest + 24 h
    with pytest.raises(InputError, match="No job length"):
        plan_request("", now=NOW)


def test_check_coverage_refuses_deadlines_a_forecast_cannot_price():
    times = NOW.timestamp() + 3600.0 * np.arange(6)
    series = IntensitySeries("ES", times, np.full(6, 100.0), 3600.0, "forecast file f.csv")
    check_coverage(plan_request("2h", within="5h", now=NOW), series, "the forecast file f.csv")
    with pytest.raises(InputError, match=r"after the end of the forecast file f\.csv"):
        check_coverage(plan_request("2h", within="7h", now=NOW), series, "the forecast file f.csv")
    check_coverage(plan_request("2h", now=NOW), series, "f")  # default day: cut, no error
    late = plan_request("2h", earliest=(NOW + timedelta(hours=5)).isoformat(), now=NOW)
    with pytest.raises(InputError, match=r"ends at .* too early for a 2 h job"):
        check_coverage(late, series, "the forecast file f.csv")


def test_typical_year_proxy_is_bounded_and_fast():
    start = datetime(2027, 1, 1, tzinfo=UTC)
    proxy = typical_year_proxy("ES", start, start + timedelta(hours=PROXY_MAX_HOURS))
    assert len(proxy.values) == PROXY_MAX_HOURS
    with pytest.raises(InputError, match="at most 367 days"):
        typical_year_proxy("ES", start, datetime(9999, 12, 31, tzinfo=UTC))


def test_typical_year_proxy_with_a_leap_reference_year(monkeypatch):
    """A leap reference year skips its 29 February: 1 March maps to 1 March."""
    import vatio.carbon.forecast as forecast

    ref = datetime(2024, 1, 1, tzinfo=UTC)
    hours = 366 * 24
    history = IntensitySeries(
        "ES", ref.timestamp() + 3600.0 * np.arange(hours), np.arange(hours, dtype=float),
        3600.0, "test",
    )  # fmt: skip
    monkeypatch.setattr(forecast, "latest_hourly", lambda zone, kind="lca": history)
    proxy = typical_year_proxy(
        "ES", datetime(2027, 2, 28, 23, tzinfo=UTC), datetime(2027, 3, 1, 2, tzinfo=UTC)
    )
    feb28_23 = (31 + 27) * 24 + 23
    mar1_0 = (31 + 29) * 24
    assert list(proxy.values) == [feb28_23, mar1_0, mar1_0 + 1]
