"""Period arithmetic shared by the services that enforce DEC-4 (the decision service on the
decision period, the voucher service on agreement periods): one rule, one place."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta

MIN_MONTHS = 3
NORMAL_MAX_MONTHS = 12
MAX_MONTHS = 24


def months_end(start: dt.date, months: int) -> dt.date:
    """Last day of a period of ``months`` whole months from ``start`` (DEC-4).

    The period ends the day before the same day of the month ``months`` later
    (1.12.2026 + 12 months -> 30.11.2027). When that month has no such day (a start on
    31.1., or on 29.2. counted into a common year), the period runs to the end of that month:
    31.1. + 3 months -> 30.4., 29.2.2024 + 12 months -> 28.2.2025. So a later start never
    gives an earlier end, and a month-end start is not a day short.
    """
    target = start + relativedelta(months=months)  # clamps to the month's last day when the day is missing
    if target.day != start.day:
        return target
    return target - dt.timedelta(days=1)


def period_length_problem(start: dt.date, end: dt.date) -> str | None:
    """DEC-4: a KTT period lasts 3-24 months. Returns what to change, or None."""
    if end < start:
        return "the period ends before it starts"
    if end < months_end(start, MIN_MONTHS):
        return f"a KTT period lasts at least {MIN_MONTHS} months: end on or after {months_end(start, MIN_MONTHS)}"
    if end > months_end(start, MAX_MONTHS):
        return f"a KTT period lasts at most {MAX_MONTHS} months: end on or before {months_end(start, MAX_MONTHS)}"
    return None
