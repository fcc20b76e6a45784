"""ktt_common.clock: Finnish working days and the settable clocks."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ktt_common.clock import (
    next_working_days,
    HELSINKI,
    Clock,
    FrozenClock,
    SharedFileClock,
    add_working_days,
    is_public_holiday,
    is_working_day,
    working_days_between,
)

D = dt.date
UTC = dt.UTC
# Tolerance for clocks that keep ticking from where they were set (no sleeps: just execution time).
TICK = dt.timedelta(seconds=5)

dates = st.dates(min_value=D(2000, 1, 1), max_value=D(2060, 12, 31))


# --- known Finnish dates ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "day",
    [
        D(2026, 6, 19),  # Midsummer Eve (Friday): de facto day off
        D(2026, 12, 24),  # Christmas Eve (Thursday)
        D(2026, 12, 25),  # Christmas Day (Friday)
        D(2026, 4, 3),  # Good Friday
        D(2026, 4, 6),  # Easter Monday
        D(2026, 5, 1),  # May Day (Friday)
        D(2026, 5, 14),  # Ascension Day (Thursday)
        D(2026, 1, 1),  # New Year's Day
        D(2026, 1, 6),  # Epiphany (Tuesday)
        D(2027, 1, 6),  # Epiphany (Wednesday)
        D(2027, 12, 6),  # Independence Day (Monday)
    ],
)
def test_weekday_holidays_are_not_working_days(day: dt.date) -> None:
    assert day.weekday() < 5  # a weekday: it is off only because it is a holiday
    assert is_public_holiday(day)
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        D(2026, 6, 18),  # Thursday before Midsummer Eve
        D(2026, 12, 23),  # Wednesday before Christmas Eve
        D(2026, 12, 28),  # Monday after Christmas
        D(2026, 4, 2),  # Maundy Thursday is a working day
        D(2026, 4, 7),  # Tuesday after Easter Monday
        D(2026, 12, 7),  # Monday after Independence Day on a Sunday: no substitute day off in Finland
        D(2027, 1, 7),  # day after Epiphany
        D(2026, 11, 30),  # an ordinary Monday
    ],
)
def test_ordinary_weekdays_are_working_days(day: dt.date) -> None:
    assert not is_public_holiday(day)
    assert is_working_day(day)


def test_independence_day_on_a_sunday_is_a_holiday_and_not_a_working_day() -> None:
    day = D(2026, 12, 6)
    assert day.weekday() == 6
    assert is_public_holiday(day)
    assert not is_working_day(day)


def test_weekends_are_not_working_days() -> None:
    assert not is_working_day(D(2026, 11, 28))  # Saturday
    assert not is_working_day(D(2026, 11, 29))  # Sunday


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 11, 30), 0, D(2026, 11, 30)),
        (D(2026, 11, 30), 1, D(2026, 12, 1)),
        (D(2026, 11, 27), 1, D(2026, 11, 30)),  # Friday + 1 -> Monday
        (D(2026, 6, 18), 1, D(2026, 6, 22)),  # skips Midsummer Eve and the weekend
        (D(2026, 12, 23), 1, D(2026, 12, 28)),  # skips Christmas Eve, Christmas Day and the weekend
        (D(2026, 12, 23), 3, D(2026, 12, 30)),
        (D(2026, 12, 31), 1, D(2027, 1, 4)),  # skips New Year's Day and the weekend
        (D(2027, 1, 5), 1, D(2027, 1, 7)),  # skips Epiphany 2027
        (D(2026, 4, 2), 1, D(2026, 4, 7)),  # skips Good Friday, Easter weekend and Easter Monday
        (D(2026, 12, 4), 1, D(2026, 12, 7)),  # Independence Day on a Sunday costs nothing extra
        (D(2026, 12, 4), 5, D(2026, 12, 11)),
    ],
)
def test_add_working_days_known_dates(start: dt.date, n: int, expected: dt.date) -> None:
    assert add_working_days(start, n) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2026, 12, 23), D(2026, 12, 28), 1),  # (23, 28]: only Monday 28th
        (D(2026, 12, 18), D(2026, 12, 31), 7),  # 21,22,23,28,29,30,31
        (D(2026, 4, 1), D(2026, 4, 8), 3),  # 2, 7, 8
        (D(2026, 6, 15), D(2026, 6, 21), 3),  # Mon 15 excluded (half-open); 16,17,18; 19 is Midsummer Eve
        (D(2026, 11, 30), D(2026, 11, 30), 0),
        (D(2026, 12, 1), D(2026, 11, 30), 0),  # end before start
        (D(2026, 11, 27), D(2026, 11, 29), 0),  # only the weekend
        (D(2026, 11, 27), D(2026, 11, 30), 1),  # the start itself is not counted, the end is
    ],
)
def test_working_days_between_known_dates(start: dt.date, end: dt.date, expected: int) -> None:
    assert working_days_between(start, end) == expected


def test_add_working_days_refuses_negative_n() -> None:
    with pytest.raises(ValueError, match="n must be >= 0"):
        add_working_days(D(2026, 11, 30), -1)


# --- properties ------------------------------------------------------------------------------

@given(dates, st.integers(min_value=1, max_value=60))
def test_add_working_days_lands_on_a_later_working_day_n_working_days_away(start: dt.date, n: int) -> None:
    end = add_working_days(start, n)
    assert end > start
    assert is_working_day(end)
    assert working_days_between(start, end) == n
    # and it is the first such day: the day before is fewer than n working days away
    assert working_days_between(start, end - dt.timedelta(days=1)) == n - 1


@given(dates)
def test_add_zero_working_days_is_the_identity(start: dt.date) -> None:
    assert add_working_days(start, 0) == start


@given(dates, st.integers(min_value=-10_000, max_value=-1))
def test_negative_n_always_raises(start: dt.date, n: int) -> None:
    with pytest.raises(ValueError):
        add_working_days(start, n)


@given(dates)
def test_weekends_are_never_working_days(day: dt.date) -> None:
    if day.weekday() >= 5:
        assert not is_working_day(day)
    else:
        assert is_working_day(day) == (not is_public_holiday(day))


@given(dates, st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=400))
def test_working_days_between_is_additive(start: dt.date, a: int, b: int) -> None:
    mid = start + dt.timedelta(days=a)
    end = mid + dt.timedelta(days=b)
    assert working_days_between(start, end) == working_days_between(start, mid) + working_days_between(mid, end)
    assert 0 <= working_days_between(start, end) <= (end - start).days


@given(dates, st.integers(min_value=0, max_value=60))
def test_working_days_between_is_zero_when_end_not_after_start(start: dt.date, back: int) -> None:
    assert working_days_between(start, start - dt.timedelta(days=back)) == 0


# --- FrozenClock -----------------------------------------------------------------------------

def test_frozen_clock_stands_still_and_advances() -> None:
    when = dt.datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    clock = FrozenClock(when)
    assert clock.now() == when
    assert clock.now() == when  # no ticking
    clock.advance(dt.timedelta(days=2, hours=3))
    assert clock.now() == when + dt.timedelta(days=2, hours=3)
    clock.set(dt.datetime(2027, 1, 6, 8, 0, tzinfo=UTC))
    assert clock.now() == dt.datetime(2027, 1, 6, 8, 0, tzinfo=UTC)


def test_frozen_clock_today_is_the_helsinki_date() -> None:
    clock = FrozenClock(dt.datetime(2026, 11, 30, 22, 30, tzinfo=UTC))
    assert clock.now().date() == D(2026, 11, 30)  # still the 30th in UTC
    assert clock.today() == D(2026, 12, 1)  # already the 1st in Helsinki (UTC+2 in winter)
    clock.set(dt.datetime(2026, 6, 30, 20, 59, tzinfo=UTC))
    assert clock.today() == D(2026, 6, 30)  # 23:59 EEST
    clock.advance(dt.timedelta(minutes=1))
    assert clock.today() == D(2026, 7, 1)  # 00:00 EEST


def test_frozen_clock_from_a_date_is_nine_in_the_morning_helsinki() -> None:
    clock = FrozenClock(D(2026, 11, 26))
    assert clock.today() == D(2026, 11, 26)
    assert clock.now() == dt.datetime(2026, 11, 26, 9, 0, tzinfo=HELSINKI)
    clock.set(D(2026, 12, 24))
    assert clock.today() == D(2026, 12, 24)


def test_frozen_clock_naive_datetime_is_taken_as_helsinki() -> None:
    clock = FrozenClock(dt.datetime(2026, 12, 1, 0, 30))
    assert clock.now().utcoffset() == dt.timedelta(hours=2)
    assert clock.now().astimezone(UTC) == dt.datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    assert clock.today() == D(2026, 12, 1)


def test_frozen_clock_reset_returns_to_real_time() -> None:
    clock = FrozenClock(dt.datetime(2000, 1, 1, tzinfo=UTC))
    clock.reset()
    assert abs(clock.now() - dt.datetime.now(UTC)) < TICK


# --- Clock -----------------------------------------------------------------------------------

def test_clock_without_offset_is_real_time() -> None:
    clock = Clock()
    assert clock.offset() == dt.timedelta(0)
    assert abs(clock.now() - dt.datetime.now(UTC)) < TICK
    assert clock.now().tzinfo is not None


def test_clock_set_moves_now_by_the_offset() -> None:
    clock = Clock()
    target = dt.datetime(2030, 3, 15, 10, 0, tzinfo=UTC)
    clock.set(target)
    assert abs(clock.now() - target) < TICK
    assert abs(clock.offset() - (target - dt.datetime.now(UTC))) < TICK
    assert clock.today() == D(2030, 3, 15)
    clock.reset()
    assert clock.offset() == dt.timedelta(0)
    assert abs(clock.now() - dt.datetime.now(UTC)) < TICK


def test_clock_set_with_naive_datetime_uses_helsinki() -> None:
    clock = Clock()
    clock.set(dt.datetime(2030, 1, 1, 0, 30))  # 00:30 Helsinki == 22:30 UTC on Dec 31st
    assert abs(clock.now() - dt.datetime(2029, 12, 31, 22, 30, tzinfo=UTC)) < TICK
    assert clock.today() == D(2030, 1, 1)


# --- SharedFileClock -------------------------------------------------------------------------

def test_shared_file_clock_instances_see_each_others_moves(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "clock.json"
    a, b = SharedFileClock(path), SharedFileClock(path)
    now = dt.datetime.now(UTC)
    assert abs(a.now() - now) < TICK and abs(b.now() - now) < TICK  # no file: no offset

    target = dt.datetime(2031, 5, 20, 12, 0, tzinfo=UTC)
    a.set(target)
    assert path.exists()
    assert abs(a.now() - target) < TICK
    assert abs(b.now() - target) < TICK
    assert b.today() == D(2031, 5, 20)

    a.reset()
    assert abs(a.now() - dt.datetime.now(UTC)) < TICK
    assert abs(b.now() - dt.datetime.now(UTC)) < TICK

    b.set(dt.datetime(2029, 2, 2, 12, 0, tzinfo=UTC))  # the other way round too
    assert a.today() == D(2029, 2, 2)


def test_shared_file_clock_file_holds_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    clock = SharedFileClock(path)
    clock.set(dt.datetime.now(UTC) + dt.timedelta(days=10))
    offset = json.loads(path.read_text())["offset_seconds"]
    assert abs(offset - 10 * 86400) < TICK.total_seconds()
    assert not path.with_suffix(".tmp").exists()


def test_shared_file_clock_deleted_file_means_no_offset(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    a, b = SharedFileClock(path), SharedFileClock(path)
    a.set(dt.datetime.now(UTC) + dt.timedelta(days=100))
    assert b.offset() > dt.timedelta(days=99)
    path.unlink()
    assert b.offset() == dt.timedelta(0)
    assert a.offset() == dt.timedelta(0)


def _write_with_mtime(path: Path, text: str, mtime_ns: int) -> None:
    """Write and give the file a distinct mtime, so the reader surely notices the change."""
    path.write_text(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))


@pytest.mark.parametrize(
    "garbage",
    ['{"offset_seconds": 86', "", "not json", '{"something_else": 1}', '{"offset_seconds": "soon"}'],
)
def test_shared_file_clock_corrupt_file_keeps_last_good_offset(tmp_path: Path, garbage: str) -> None:
    path = tmp_path / "clock.json"
    base = 1_700_000_000 * 10**9
    _write_with_mtime(path, json.dumps({"offset_seconds": 3600.0}), base)
    reader = SharedFileClock(path)
    assert reader.offset() == dt.timedelta(hours=1)

    _write_with_mtime(path, garbage, base + 10**9)  # half-written or corrupt
    assert reader.offset() == dt.timedelta(hours=1)
    assert reader.offset() == dt.timedelta(hours=1)

    _write_with_mtime(path, json.dumps({"offset_seconds": -7200.0}), base + 2 * 10**9)  # good again
    assert reader.offset() == dt.timedelta(hours=-2)


@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)), st.integers(min_value=1, max_value=15))
def test_next_working_days_are_the_first_working_days_from_the_start(first: dt.date, n: int) -> None:
    days = next_working_days(first, n)
    assert len(days) == n
    assert all(is_working_day(day) for day in days)
    assert days == sorted(set(days))
    # nothing skipped: every working day between the first and the last is in the list
    span = [first + dt.timedelta(days=i) for i in range((days[-1] - first).days + 1)]
    assert [day for day in span if is_working_day(day)] == days


def test_next_working_days_skip_independence_day_and_christmas() -> None:
    # 6 December 2027 is a Monday
    assert next_working_days(D(2027, 12, 3), 3) == [D(2027, 12, 3), D(2027, 12, 7), D(2027, 12, 8)]
    assert next_working_days(D(2026, 12, 23), 3) == [D(2026, 12, 23), D(2026, 12, 28), D(2026, 12, 29)]
