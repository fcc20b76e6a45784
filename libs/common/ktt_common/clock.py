"""One clock for all "now" and "today", settable by tests and, in development, over HTTP.

Business dates are Europe/Helsinki calendar dates. In development the clock offset lives in
``DATA_DIR/clock.json`` so every service started from the same data folder sees the same time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from holidays.utils import country_holidays

HELSINKI = ZoneInfo("Europe/Helsinki")


def utc_now() -> dt.datetime:
    """Wall-clock UTC for record-keeping stamps (created_at, updated_at). Business "now" and "today"
    come from :class:`Clock`, which tests and development can move."""
    return dt.datetime.now(dt.UTC)


class Clock:
    """Real time plus an offset. ``set`` moves the clock; it keeps ticking from there."""

    def __init__(self) -> None:
        self._offset = dt.timedelta(0)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset()

    def today(self) -> dt.date:
        """Today's business date in Europe/Helsinki."""
        return self.now().astimezone(HELSINKI).date()

    def offset(self) -> dt.timedelta:
        return self._offset

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=HELSINKI)
        self._store(when - dt.datetime.now(dt.UTC))

    def reset(self) -> None:
        self._store(dt.timedelta(0))

    def _store(self, offset: dt.timedelta) -> None:
        self._offset = offset


class FrozenClock(Clock):
    """A clock that stands still until moved: for tests."""

    def __init__(self, when: dt.datetime | dt.date) -> None:
        super().__init__()
        self._when = _as_datetime(when)

    def now(self) -> dt.datetime:
        return self._when

    def set(self, when: dt.datetime | dt.date) -> None:
        self._when = _as_datetime(when)

    def advance(self, delta: dt.timedelta) -> None:
        self._when += delta

    def reset(self) -> None:
        self._when = dt.datetime.now(dt.UTC)


class SharedFileClock(Clock):
    """Offset kept in a JSON file shared by the services of one development installation."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self._mtime: tuple[int, int, int] | None = None

    def offset(self) -> dt.timedelta:
        try:
            st = os.stat(self._path)
            # Every write replaces the file, so the inode changes even when two writes share
            # a coarse modification time.
            mtime = (st.st_mtime_ns, st.st_ino, st.st_size)
        except FileNotFoundError:
            self._mtime, self._offset = None, dt.timedelta(0)
            return self._offset
        if mtime != self._mtime:
            try:
                data = json.loads(self._path.read_text())
                self._offset = dt.timedelta(seconds=float(data["offset_seconds"]))
                self._mtime = mtime
            except (ValueError, KeyError, OSError):
                pass  # a half-written file: keep the last good offset and read again next time
        return self._offset

    def _store(self, offset: dt.timedelta) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"offset_seconds": offset.total_seconds()}))
        tmp.replace(self._path)
        self._offset = offset


def _as_datetime(when: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(when, dt.datetime):
        return when if when.tzinfo else when.replace(tzinfo=HELSINKI)
    return dt.datetime.combine(when, dt.time(9, 0), tzinfo=HELSINKI)


# --- Finnish working days ---------------------------------------------------------------
# The calendar is the `holidays` package's Finland (which lists Midsummer Eve and Christmas Eve
# too: de facto days off); its own working-day helpers do the arithmetic. Only the membership
# test is answered from a per-year frozenset of that same calendar, because the daily log asks it
# millions of times a batch and the package's ``is_working_day`` costs about three times as much.

_FINLAND = country_holidays("FI")


@lru_cache(maxsize=64)
def _finnish_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(country_holidays("FI", years=year).keys())


def is_public_holiday(day: dt.date) -> bool:
    return day in _finnish_holidays(day.year)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday, excluding Finnish public holidays (and Midsummer and Christmas Eve)."""
    return day.weekday() < 5 and not is_public_holiday(day)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start`` (n >= 0; n == 0 gives ``start`` itself)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    return start if n == 0 else _FINLAND.get_nth_working_day(start, n)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in the half-open range (start, end]."""
    if end <= start:
        return 0
    return _FINLAND.get_working_days_count(start + dt.timedelta(days=1), end)


def next_working_days(first: dt.date, n: int) -> list[dt.date]:
    """The first ``n`` working days from ``first`` on (``first`` itself included when it is one)."""
    days: list[dt.date] = []
    day = first
    while len(days) < n:
        day = _FINLAND.get_nth_working_day(day, 0)
        days.append(day)
        if day >= dt.date.max - dt.timedelta(days=14):
            break
        day += dt.timedelta(days=1)
    return days
