"""OPS-1 and the scheduler's due dates, as pure rules (hypothesis over date ranges)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from ktt_common.job_rules import EARLIEST_JOB_DATE, due_dates, job_date_error

RUN_AT = dt.time(0, 15)
dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
recent = st.dates(min_value=dt.date(2000, 1, 2), max_value=dt.date(2100, 12, 31))
moments = st.datetimes(min_value=dt.datetime(2000, 1, 2), max_value=dt.datetime(2100, 12, 31))


@settings(deadline=None)  # pure and fast; a loaded machine's pauses are not the rule's concern
@given(run_date=dates, today=recent)
def test_ops_1_a_job_date_is_allowed_exactly_from_2000_up_to_today(run_date, today):
    error = job_date_error(run_date, today)
    assert (error is None) == (EARLIEST_JOB_DATE <= run_date <= today)
    if error:
        assert error.startswith("OPS-1") and run_date.isoformat() in error


def test_ops_1_extremes():
    today = dt.date(2026, 11, 26)
    assert "after today" in job_date_error(dt.date(9999, 12, 31), today)  # type: ignore[operator]
    assert "before 2000-01-01" in job_date_error(dt.date(1, 1, 1), today)  # type: ignore[operator]
    assert job_date_error(today, today) is None


@settings(deadline=None)
@given(last=st.none() | dates, now=moments, catch_up=st.integers(1, 400))
def test_due_dates_are_consecutive_after_the_last_run_up_to_the_newest_due_day(last, now, catch_up):
    days = due_dates(last, now, RUN_AT, catch_up)
    newest = now.date() if now.time() >= RUN_AT else now.date() - dt.timedelta(days=1)
    assert all(job_date_error(d, now.date()) is None for d in days)  # the scheduler never runs a refused date
    assert days == sorted(set(days)) and len(days) <= catch_up
    assert all((b - a).days == 1 for a, b in zip(days, days[1:]))
    if last is None or last < EARLIEST_JOB_DATE:
        assert days == [newest]
    elif last >= newest:
        assert days == []
    else:
        assert days[-1] == newest and days[0] == max(last + dt.timedelta(days=1), newest - dt.timedelta(days=catch_up - 1))


def test_due_dates_wait_for_the_run_time():
    last = dt.date(2026, 11, 25)
    assert due_dates(last, dt.datetime(2026, 11, 26, 0, 14), RUN_AT, 31) == []
    assert due_dates(last, dt.datetime(2026, 11, 26, 0, 15), RUN_AT, 31) == [dt.date(2026, 11, 26)]
    assert due_dates(dt.date(2026, 11, 1), dt.datetime(2026, 11, 26, 9), RUN_AT, 3) == [
        dt.date(2026, 11, 24), dt.date(2026, 11, 25), dt.date(2026, 11, 26)]
