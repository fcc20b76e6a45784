"""Pure rules of the daily log: facts in, verdict out, each citing its rule.

ATT-1  the log records what happened: no day in the future.
ATT-3  authorised absences are agreed, with a certificate; sickness always needs one.
ATT-9  what is realised keeps AGR-6 and AGR-11: 4-8 hours a day, at most 4 days a calendar week
       and 230 days in any 12 months, for the client across agreements (AGR-18).
AGR-14 a day off the schedule only with a deviation recorded beforehand.
Public sources: days without service (public holidays, provider closures) are "service not
organised": neither absences nor payable days.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections import Counter
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta

from ktt_common.clock import is_public_holiday

MIN_MINUTES, MAX_MINUTES = 4 * 60, 8 * 60     # ATT-9 / AGR-6: 4-8 hours a present day
MAX_DAYS_PER_WEEK = 4                         # ATT-9 / AGR-6
MAX_DAYS_IN_12_MONTHS = 230                   # ATT-9 / AGR-11
_YEAR = dt.timedelta(days=366)

AUTHORISED_REASONS = frozenset({"sick_with_certificate", "doctor_visit", "child_illness", "job_interview",
                                "other_authorised"})
SICK_REASONS = frozenset({"sick_with_certificate", "sick_without_certificate"})
# Reasons that stand only with a certificate (ATT-3: a doctor's visit, a child's illness "with a certificate").
CERTIFICATE_REASONS = frozenset({"sick_with_certificate", "doctor_visit", "child_illness"})


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, clamped to the calendar's ends instead of overflowing."""
    try:
        return day + relativedelta(months=months)
    except (OverflowError, ValueError):
        return dt.date.max if months > 0 else dt.date.min


def minutes(hours: float | None, start: dt.time | None, end: dt.time | None) -> int | None:
    """A present day's realised minutes: ``hours`` when given (breaks left out), else end - start."""
    if hours is not None:
        return round(hours * 60)
    if start is not None and end is not None:
        return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return None


def hours_problem(realised_minutes: int | None) -> str | None:
    """ATT-9 / AGR-6: a present day lasts 4 to 8 hours (travel not counted)."""
    if realised_minutes is None:
        return "a present day needs its hours, or start and end times"
    if not MIN_MINUTES <= realised_minutes <= MAX_MINUTES:
        return (f"a present day lasts {MIN_MINUTES // 60} to {MAX_MINUTES // 60} hours (travel not counted); "
                f"{realised_minutes / 60:g} h recorded")
    return None


def future_problem(day: dt.date, today: dt.date) -> str | None:
    """ATT-1: the log records what happened; a day after today cannot have happened yet."""
    if day > today:
        return f"{day} is in the future: record a day on or after it happens (today is {today})"
    return None


def authorised(reason: str, certificate: bool) -> bool:
    """ATT-3: an absence is authorised when agreed for an accepted reason, with a certificate where
    the reason needs one; sickness without a certificate, being sent away (ATT-8) and anything
    else are unauthorised."""
    if reason not in AUTHORISED_REASONS:
        return False
    if reason in CERTIFICATE_REASONS:
        return certificate
    return True


def not_organised_problem(day: dt.date, reason: str | None) -> tuple[str, str | None]:
    """Days without service: a public holiday, or the provider's closure. Returns the reason to
    store and a problem (a 'public holiday' on a day that is none)."""
    holiday = is_public_holiday(day)
    if reason is None:
        return ("public_holiday" if holiday else "provider_closure"), None
    if reason == "public_holiday" and not holiday:
        return reason, f"{day} is not a Finnish public holiday: record the closure as provider_closure (AGR-9)"
    return reason, None


@functools.lru_cache(maxsize=4096)  # asked for every day of every batch; a batch holds few distinct days
def week_of(day: dt.date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso[0], iso[1]


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_problem(days_in_week: int, day: dt.date) -> str | None:
    """ATT-9 / AGR-6: at most 4 realised days in a calendar week, counted for the client across
    agreements (AGR-18). ``days_in_week``: the client's other realised days of that week."""
    if days_in_week >= MAX_DAYS_PER_WEEK:
        return (f"the client already has {days_in_week} realised days in the week of {monday_of(day)} across agreements; "
                f"at most {MAX_DAYS_PER_WEEK} a calendar week (ATT-9, AGR-6)")
    return None


def twelve_month_problem(days: list[dt.date], day: dt.date) -> str | None:
    """ATT-9 / AGR-11: at most 230 realised days in any 12 months, counted for the client across
    agreements. ``days`` (sorted, the client's other realised days) plus ``day`` must leave no
    window [s, s + 12 months) holding ``day`` with more than 230 days.

    A fullest window holding ``day`` can always start on one of the days (or on ``day``), so only
    those starts are tried; when the two years around ``day`` hold no more than the cap, none can."""
    if len(days) < MAX_DAYS_IN_12_MONTHS:
        return None
    # 12 months are never more than 366 days: when the days within 366 days either side leave
    # room, no window can be full (the common case, without month arithmetic).
    try:
        wide = bisect.bisect_left(days, day + _YEAR) - bisect.bisect_right(days, day - _YEAR)
    except OverflowError:
        wide = len(days)
    if wide + 1 <= MAX_DAYS_IN_12_MONTHS:
        return None
    lo, hi = add_months(day, -12), add_months(day, 12)
    near = bisect.bisect_left(days, hi) - bisect.bisect_right(days, lo)
    if near + 1 <= MAX_DAYS_IN_12_MONTHS:
        return None
    first = bisect.bisect_right(days, lo)
    last = bisect.bisect_right(days, day)
    for start in [*days[first:last], day]:
        end = add_months(start, 12)
        if not start <= day < end:
            continue
        count = bisect.bisect_left(days, end) - bisect.bisect_left(days, start) + 1
        if count > MAX_DAYS_IN_12_MONTHS:
            return (f"the client would have {count} realised days in the 12 months from {start} across agreements; "
                    f"at most {MAX_DAYS_IN_12_MONTHS} (ATT-9, AGR-11)")
    return None


@dataclass
class ClientDays:
    """A client's realised days across agreements, kept while a batch is checked (ATT-9)."""

    days: list[dt.date] = field(default_factory=list)
    weeks: Counter[tuple[int, int]] = field(default_factory=Counter)

    @classmethod
    def of(cls, days: list[dt.date]) -> ClientDays:
        ordered = sorted(days)
        return cls(ordered, Counter(week_of(d) for d in ordered))

    def add(self, day: dt.date) -> None:
        bisect.insort(self.days, day)
        self.weeks[week_of(day)] += 1

    def remove(self, day: dt.date) -> None:
        i = bisect.bisect_left(self.days, day)
        if i < len(self.days) and self.days[i] == day:
            del self.days[i]
            self.weeks[week_of(day)] -= 1

    def problem(self, day: dt.date) -> tuple[str, str] | None:
        """(rule, message) when one more realised day on ``day`` breaks ATT-9, else None."""
        in_week = self.weeks[week_of(day)]
        if in_week >= MAX_DAYS_PER_WEEK and (weekly := week_problem(in_week, day)):
            return "ATT-9", weekly
        if len(self.days) >= MAX_DAYS_IN_12_MONTHS and (yearly := twelve_month_problem(self.days, day)):
            return "ATT-9", yearly
        return None
