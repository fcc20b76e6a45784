"""Pure rules of service agreements, schedules and periods: facts in, verdict out.

AGR-3 signing lead, AGR-4 end within the decision, AGR-6 weekly schedule, AGR-11 the
230-day cap, VOU-6 base value after one year, REP-3/REP-4 evaluation
due dates. Each function cites its rule; errors are FieldErrors naming the field and the rule.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta

from ktt_common.clock import is_public_holiday
from ktt_common.errors import FieldError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

MIN_DAYS_PER_WEEK, MAX_DAYS_PER_WEEK = 1, 4          # AGR-6
MIN_HOURS_PER_DAY, MAX_HOURS_PER_DAY = 4.0, 8.0      # AGR-6
UNUSUAL_HOURS_PER_DAY = 6.0                          # AGR-6: above this, accept with a warning
MAX_HOURS_PER_WEEK = 32.0                            # public facts: at most 32 hours a week
SIGNING_LEAD_DAYS = 3                                # AGR-3
MAX_DAYS_IN_12_MONTHS = 230                          # AGR-11
EVALUATION_LEAD_DAYS = 7                             # REP-3, REP-4
DEFAULT_PERIOD_ENDING_LEAD_DAYS = 21


@dataclass(frozen=True)
class ScheduleDay:
    weekday: str
    start: dt.time
    end: dt.time

    @property
    def hours(self) -> float:
        minutes = (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)
        return minutes / 60


@dataclass
class Verdict:
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_schedule(days: list[ScheduleDay], field_prefix: str = "body.schedule") -> Verdict:
    """AGR-6: 1-4 named weekdays a calendar week, each 4-8 hours; above 6 h warns; over 32 h a week refused."""
    verdict = Verdict()
    if not MIN_DAYS_PER_WEEK <= len(days) <= MAX_DAYS_PER_WEEK:
        verdict.errors.append(FieldError(
            field=field_prefix, rule="AGR-6",
            message=f"a schedule has {MIN_DAYS_PER_WEEK} to {MAX_DAYS_PER_WEEK} activity days a week; {len(days)} given",
        ))
    seen: set[str] = set()
    for i, day in enumerate(days):
        where = f"{field_prefix}.{i}"
        if day.weekday not in WEEKDAYS:
            verdict.errors.append(FieldError(field=f"{where}.weekday", rule="AGR-6",
                                             message=f"name the weekday as one of {', '.join(WEEKDAYS)}"))
        elif day.weekday in seen:
            verdict.errors.append(FieldError(field=f"{where}.weekday", rule="AGR-6",
                                             message=f"{day.weekday} appears twice; one clock range per day"))
        seen.add(day.weekday)
        if day.end <= day.start:
            verdict.errors.append(FieldError(field=f"{where}.end", rule="AGR-6", message="the day ends before it starts"))
            continue
        if not MIN_HOURS_PER_DAY <= day.hours <= MAX_HOURS_PER_DAY:
            verdict.errors.append(FieldError(
                field=f"{where}", rule="AGR-6",
                message=f"an activity day lasts {MIN_HOURS_PER_DAY:g} to {MAX_HOURS_PER_DAY:g} hours; {day.weekday} has {day.hours:g}",
            ))
        elif day.hours > UNUSUAL_HOURS_PER_DAY:
            verdict.warnings.append(FieldError(
                field=f"{where}", rule="AGR-6",
                message=f"{day.hours:g} hours on {day.weekday} is above the usual {UNUSUAL_HOURS_PER_DAY:g}; accepted",
            ))
    weekly = sum(d.hours for d in days if d.end > d.start)
    if weekly > MAX_HOURS_PER_WEEK:
        verdict.errors.append(FieldError(
            field=field_prefix, rule="AGR-6",
            message=f"at most {MAX_HOURS_PER_WEEK:g} hours a week; the schedule has {weekly:g}",
        ))
    return verdict


def check_signing_lead(signed_on: dt.date, start: dt.date) -> FieldError | None:
    """AGR-3: signed at least 3 days before the service starts."""
    if (start - signed_on).days < SIGNING_LEAD_DAYS:
        return FieldError(field="body.start_date", rule="AGR-3",
                          message=f"the agreement is signed at least {SIGNING_LEAD_DAYS} days before the start: "
                                  f"start on {signed_on + dt.timedelta(days=SIGNING_LEAD_DAYS)} or later")
    return None


def check_end(end: dt.date, decision_end: dt.date) -> FieldError | None:
    """AGR-4: fixed-term, ending at the latest when the decision ends."""
    if end > decision_end:
        return FieldError(field="body.end_date", rule="AGR-4",
                          message=f"the agreement ends at the latest when the decision ends: {decision_end}")
    return None


def scheduled_days(start: dt.date, end: dt.date, weekdays: set[str]) -> list[dt.date]:
    """Activity days a schedule projects over [start, end]. Public holidays are 'service not
    organised': neither activity days nor absences."""
    wanted = {WEEKDAYS.index(w) for w in weekdays}
    days = []
    day = start
    while day <= end:
        if day.weekday() in wanted and not is_public_holiday(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def busiest_12_months(days: list[dt.date]) -> tuple[int, dt.date | None]:
    """The most activity days in any window of 12 months [d, d + 12 months), and its first day."""
    ordered = sorted(set(days))
    best, best_start = 0, None
    for i, first in enumerate(ordered):
        window_end = first + relativedelta(months=12)
        count = bisect.bisect_left(ordered, window_end, lo=i) - i
        if count > best:
            best, best_start = count, first
    return best, best_start


def check_230_days(days: list[dt.date]) -> FieldError | None:
    """AGR-11: at most 230 activity days in any 12 months (counting realised and projected days)."""
    count, window_start = busiest_12_months(days)
    if count > MAX_DAYS_IN_12_MONTHS:
        return FieldError(field="body.schedule", rule="AGR-11",
                          message=f"{count} activity days in the 12 months from {window_start}; at most {MAX_DAYS_IN_12_MONTHS}")
    return None


def base_value_from(first_service_start: dt.date) -> dt.date:
    """VOU-6: the first day on which the base value applies: one full year after the client's first
    service start under the voucher (start 2026-12-01 -> base value from 2027-12-01). A start on
    29 February has its year end on 28 February, so the base value applies from 1 March."""
    anniversary = first_service_start + relativedelta(years=1)
    if (first_service_start.month, first_service_start.day) == (2, 29):
        return anniversary + dt.timedelta(days=1)
    return anniversary


def evaluation_due(period_end: dt.date) -> dt.date:
    """REP-3/REP-4: the interim or final evaluation is due at the latest a week before the period ends."""
    return period_end - dt.timedelta(days=EVALUATION_LEAD_DAYS)


def period_ending_notice_on(period_end: dt.date, lead_days: int = DEFAULT_PERIOD_ENDING_LEAD_DAYS) -> dt.date:
    """The day PeriodEnding is published: ``lead_days`` before the period's end."""
    return period_end - dt.timedelta(days=lead_days)
