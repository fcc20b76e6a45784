"""Pure rules of service agreements, schedules and periods: facts in, verdict out.

AGR-3 signing lead, AGR-4 end within the decision, AGR-6 weekly schedule, AGR-11 the
230-day cap, AGR-18 one agreement in force per client, AGR-10 continuations, AGR-13 end dates,
PRV-6/PRV-7 free places and the queue, VOU-6 base value after one year, REP-3/REP-4 evaluation
due dates. Each function cites its rule; errors are FieldErrors naming the field and the rule.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta

from ktt_common.clock import is_public_holiday
from ktt_common.errors import FieldError

if TYPE_CHECKING:
    from ktt_voucher.agreements.schemas import AgreementDraftIn

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

MIN_DAYS_PER_WEEK, MAX_DAYS_PER_WEEK = 1, 4          # AGR-6
MIN_HOURS_PER_DAY, MAX_HOURS_PER_DAY = 4.0, 8.0      # AGR-6
UNUSUAL_HOURS_PER_DAY = 6.0                          # AGR-6: above this, accept with a warning
MAX_HOURS_PER_WEEK = 32.0                            # public facts: at most 32 hours a week
SIGNING_LEAD_DAYS = 3                                # AGR-3
MAX_DAYS_IN_12_MONTHS = 230                          # AGR-11
EVALUATION_LEAD_DAYS = 7                             # REP-3, REP-4
CONTINUATION_LEAD_DAYS = 7                           # REP-3 / AGR-10: agreed at the latest a week before the period ends
MONTH_REPORTED_BY_DAY = 3                            # ATT-10 / BIL-2: a month's days are reported by the 3rd of the next
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


# --- AGR-7 / AGR-17: contents ------------------------------------------------------------------------

def missing_items(body: AgreementDraftIn, product_kind: str | None) -> list[FieldError]:
    """AGR-7 and AGR-17: every required content item of the agreement, listed at once."""
    missing: list[tuple[str, str, str]] = []
    if not body.voucher_number:
        missing.append(("body.voucher_number", "the voucher identifier", "AGR-7"))
    if not body.unit_id:
        missing.append(("body.unit_id", "the provider's unit (location and contacts)", "AGR-7"))
    if not body.product_id:
        missing.append(("body.product_id", "the product (and so the voucher value)", "AGR-7"))
    if not body.start_date:
        missing.append(("body.start_date", "the start date of the period", "AGR-7"))
    if not body.end_date:
        missing.append(("body.end_date", "the end date of the period", "AGR-7"))
    if not body.schedule:
        missing.append(("body.schedule", "the activity days, weekdays and hours per day", "AGR-7"))
    if not body.tasks or not any(t.strip() for t in body.tasks):
        missing.append(("body.tasks", "the work tasks", "AGR-7"))
    if not body.goals:
        missing.append(("body.goals", "the goal of the period", "AGR-7"))
    if not body.instructor or not body.instructor.name:
        missing.append(("body.instructor.name", "the client's instructor", "AGR-7"))
    if not body.instructor or not (body.instructor.phone or body.instructor.email):
        missing.append(("body.instructor.phone", "the instructor's contact details (AGR-2)", "AGR-7"))
    if not body.client_contact or not (body.client_contact.phone or body.client_contact.email):
        missing.append(("body.client_contact", "the client's contact details", "AGR-7"))
    if not body.case_worker or not body.case_worker.name:
        missing.append(("body.case_worker.name", "the case worker (coordinator, AGR-1)", "AGR-7"))
    if not body.case_worker or not (body.case_worker.phone or body.case_worker.email):
        missing.append(("body.case_worker.phone", "the case worker's contact details", "AGR-7"))
    if product_kind == "assessment_period":
        if not body.assessment_justification:
            missing.append(("body.assessment_justification", "the assessment period's justification (VOU-8)", "AGR-7"))
        if not body.assessment_content:
            missing.append(("body.assessment_content", "the assessment period's content (VOU-8)", "AGR-7"))
    if not body.individual_coaching:
        missing.append(("body.individual_coaching", "the amount of individual coaching", "AGR-17"))
    if body.parallel_services is None:
        missing.append(("body.parallel_services", "other services the client takes part in at the same time ([] for none)", "AGR-17"))
    if body.work_cards is None:
        missing.append(("body.work_cards", "work cards or qualification parts to be earned ([] for none)", "AGR-17"))
    terms = body.terms
    for name, what, rule in (
        ("absence_reporting_and_certificates", "the duty to report absences, with certificates", "AGR-7"),
        ("sanctions_for_unauthorised_absence", "the sanctions of unauthorised absence", "AGR-7"),
        ("no_participation_under_influence", "no participation under the influence", "AGR-7"),
        ("termination_and_complaint_terms", "the termination and complaint terms", "AGR-17"),
        ("self_monitoring_plan", "the client gets the self-monitoring plan", "AGR-17"),
        ("orientation_folder", "the client gets an orientation folder", "AGR-17"),
        ("fire_safety_induction", "the client gets fire-safety induction", "AGR-17"),
    ):
        if not terms or not getattr(terms, name):
            missing.append((f"body.terms.{name}", what, rule))
    return [FieldError(field=f, rule=rule, message=f"missing: {what}") for f, what, rule in missing]


# --- AGR-18: one agreement in force per client ------------------------------------------------------

IN_FORCE_STATES = ("signed", "active")


def in_force_until(state: str, end_date: dt.date, ended_on: dt.date | None) -> dt.date | None:
    """The last day an agreement is (or was) in force, or None when it never binds: a draft or a
    withdrawn draft. A signed agreement binds to its end date; an ended one to its end day, and
    not at all when it ended before it started (replaced before its first day, AGR-8)."""
    if state in IN_FORCE_STATES:
        return end_date
    if state == "ended" and ended_on is not None:
        return ended_on
    return None


def overlap(a_start: dt.date, a_until: dt.date | None, b_start: dt.date, b_until: dt.date | None) -> bool:
    """AGR-18: two stretches share a day (an empty stretch, until before start, shares none)."""
    if a_until is None or b_until is None or a_until < a_start or b_until < b_start:
        return False
    return a_start <= b_until and b_start <= a_until


def replacement_end(new_start: dt.date) -> dt.date:
    """AGR-18 / AGR-8: signing with a new provider ends the previous agreement the day before the new one starts."""
    return new_start - dt.timedelta(days=1)


def days_per_week_problem(days: list[dt.date], field: str = "body.start_date") -> FieldError | None:
    """AGR-18 with AGR-6: at most 4 activity days in any calendar week for the client, across
    agreements (the week of a change of provider or of schedule counts the days of both)."""
    weeks: dict[tuple[int, int], int] = {}
    for day in set(days):
        key = day.isocalendar()[:2]
        weeks[key] = weeks.get(key, 0) + 1
    for (year, week), count in sorted(weeks.items()):
        if count > MAX_DAYS_PER_WEEK:
            monday = dt.date.fromisocalendar(year, week, 1)
            return FieldError(field=field, rule="AGR-18",
                              message=f"the client would have {count} activity days in the week of {monday} across agreements; "
                                      f"at most {MAX_DAYS_PER_WEEK} a calendar week (AGR-6): start in the next week "
                                      f"({monday + dt.timedelta(days=7)}) or on fewer days")
    return None


# --- AGR-10 / REP-3: continuations and reviews -----------------------------------------------------

def continuation_deadline(period_end: dt.date) -> dt.date:
    """REP-3 / AGR-10: a continuation is agreed at the latest a week before the period ends."""
    return period_end - dt.timedelta(days=CONTINUATION_LEAD_DAYS)


def check_continuation_in_time(agreed_on: dt.date, period_end: dt.date, field: str = "body.end") -> FieldError | None:
    deadline = continuation_deadline(period_end)
    if agreed_on > deadline:
        return FieldError(field=field, rule="REP-3",
                          message=f"a continuation is agreed at the latest a week before the period ends ({deadline}); "
                                  f"the period ends {period_end}: make a new agreement instead")
    return None


def schedule_reduction(old: list[ScheduleDay], new: list[ScheduleDay]) -> str | None:
    """AGR-10: progression is towards 4 days a week and 6-8 hours a day. Says what drops (fewer
    days a week, fewer hours a week, or a shorter day than the shortest before), or None."""
    drops = []
    if len(new) < len(old):
        drops.append(f"days a week from {len(old)} to {len(new)}")
    old_week, new_week = sum(d.hours for d in old), sum(d.hours for d in new)
    if new_week < old_week:
        drops.append(f"hours a week from {old_week:g} to {new_week:g}")
    if old and new and min(d.hours for d in new) < min(d.hours for d in old):
        drops.append(f"the shortest day from {min(d.hours for d in old):g} to {min(d.hours for d in new):g} hours")
    return "; ".join(drops) or None


# --- AGR-13: end dates --------------------------------------------------------------------------------

def month_closed(day: dt.date, today: dt.date) -> bool:
    """ATT-10 / BIL-2: a month is closed once its realised days are due (the 3rd of the next
    month has passed): 31.1. is closed from 4.2. on."""
    next_month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)  # no date arithmetic: 12/9999 is safe
    return (today.year, today.month) > next_month or ((today.year, today.month) == next_month and today.day > MONTH_REPORTED_BY_DAY)


def end_date_problems(ended_on: dt.date, start: dt.date, end: dt.date, today: dt.date,
                      field: str = "body.ended_on") -> list[FieldError]:
    """AGR-13: an early end falls inside the agreement's term and not in a closed month."""
    problems = []
    if ended_on < start:
        problems.append(FieldError(field=field, rule="AGR-13",
                                   message=f"the end date {ended_on} is before the agreement starts ({start})"))
    if ended_on > end:
        problems.append(FieldError(field=field, rule="AGR-13",
                                   message=f"the agreement ends by its fixed term on {end}; an early end falls on or before it"))
    if month_closed(ended_on, today):
        problems.append(FieldError(field=field, rule="AGR-13",
                                   message=f"{ended_on:%m/%Y} is closed (its days were due by the {MONTH_REPORTED_BY_DAY}rd of the "
                                           "next month, BIL-2); end in an open month"))
    return problems


# --- PRV-6 / PRV-7: a place in the unit ----------------------------------------------------------------

def place_problem(free_places: int | None, queue_ahead: int) -> str | None:
    """PRV-6 / PRV-7: a new agreement needs a free place that no client ahead in the unit's queue
    is waiting for: the first in the queue takes the first free place, a client outside the queue
    only a place left over after everyone queued. Unknown capacity (no figures from the registry
    yet) is not a refusal."""
    if free_places is None:
        return None
    if free_places <= 0:
        return "the unit has no free place (PRV-6); the client can join its queue (PRV-7)"
    if free_places <= queue_ahead:
        return (f"the unit's {free_places} free place(s) go to the {queue_ahead} client(s) ahead in its queue first (PRV-7); "
                "the client can join the queue")
    return None


def same_person(a: str | None, b: str | None) -> bool:
    """Names compared as people write them: case, extra spaces and a 'first last' vs 'last first'
    order do not matter (AGR-1: the signer is the unit's responsible person or a named deputy)."""
    if not a or not b:
        return False
    words_a, words_b = a.casefold().split(), b.casefold().split()
    return words_a == words_b or sorted(words_a) == sorted(words_b)
