"""Pure rules of month reporting (ATT-10, BIL-2): a month's realised days are reported by the 3rd
of the next month; a month is confirmed once every scheduled day has an entry."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from ktt_common.clock import is_public_holiday

REPORTED_BY_DAY = 3  # ATT-10 / BIL-2
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> tuple[dt.date, dt.date] | None:
    """'2027-01' -> (first day, last day), or None when it is no month."""
    m = MONTH_RE.match(text or "")
    if not m:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    if year < 1:
        return None
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def month_range(text: str) -> tuple[dt.date, dt.date]:
    """(first day, last day) of a month the caller has already validated (a schema pattern, a month it
    made itself); one that is no month is a programming error here, not bad input."""
    bounds = parse_month(text)
    if bounds is None:
        raise ValueError(f"not a month: {text!r}")
    return bounds


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def due_on(last_day: dt.date) -> dt.date | None:
    """ATT-10: the 3rd of the next month (None past the calendar's end)."""
    if last_day.year == 9999 and last_day.month == 12:
        return None
    return last_day + dt.timedelta(days=REPORTED_BY_DAY)


def confirm_problem(first: dt.date, last: dt.date, today: dt.date) -> str | None:
    """A month is confirmed once it is over: its last day's entry can be posted on that day."""
    if today < last:
        return f"the month runs to {last}; confirm it on or after that day (today is {today})"
    return None


def is_late(last: dt.date, on: dt.date) -> bool:
    """ATT-10: a month confirmed (or still unconfirmed) after the 3rd of the next month is late."""
    due = due_on(last)
    return due is not None and on > due


def due_month(run_date: dt.date) -> str | None:
    """The month whose reporting deadline passed most recently before ``run_date``: on the 4th of a
    month (and later) the previous month; before it, the month before that."""
    first = run_date.replace(day=1)
    back = 1 if run_date.day > REPORTED_BY_DAY else 2
    year, month = first.year, first.month - back
    while month < 1:
        year, month = year - 1, month + 12
    if year < 1:
        return None
    return f"{year:04d}-{month:02d}"


def required_days(scheduled: list[dt.date]) -> list[dt.date]:
    """Scheduled days that need an entry: public holidays are days without service and need none."""
    return [d for d in scheduled if not is_public_holiday(d)]
