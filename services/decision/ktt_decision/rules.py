"""Pure rules of a decision: facts in, violations out. Each cites its rule ID."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta

from ktt_common.errors import FieldError

MIN_MONTHS = 3
NORMAL_MAX_MONTHS = 12
MAX_MONTHS = 24


def period_months_end(start: dt.date, months: int) -> dt.date:
    """Last day of a period of ``months`` whole months from ``start`` (1.12. + 12 months -> 30.11.)."""
    return start + relativedelta(months=months) - dt.timedelta(days=1)


def check_period(start: dt.date, end: dt.date, extension_justification: str | None) -> list[FieldError]:
    """DEC-4: a period lasts 3-24 months; over 12 months needs a written justification."""
    if end < start:
        return [FieldError(field="body.period.end", rule="DEC-4", message="the period ends before it starts")]
    if end < period_months_end(start, MIN_MONTHS):
        return [FieldError(field="body.period.end", rule="DEC-4",
                           message=f"a KTT period lasts at least {MIN_MONTHS} months: end on or after {period_months_end(start, MIN_MONTHS)}")]
    if end > period_months_end(start, MAX_MONTHS):
        return [FieldError(field="body.period.end", rule="DEC-4",
                           message=f"a KTT period lasts at most {MAX_MONTHS} months: end on or before {period_months_end(start, MAX_MONTHS)}")]
    if end > period_months_end(start, NORMAL_MAX_MONTHS) and not (extension_justification or "").strip():
        return [FieldError(field="body.extension_justification", rule="DEC-4",
                           message="a period over 12 months needs a written justification that continuing improves work readiness")]
    return []


def check_plan(plan_date: dt.date, decided_on: dt.date) -> list[FieldError]:
    """DEC-2: a decision rests on a plan made before it."""
    if plan_date > decided_on:
        return [FieldError(field="body.plan.date", rule="DEC-2",
                           message=f"the plan is dated {plan_date}, after the decision ({decided_on}); a decision rests on an existing plan")]
    return []


def check_special(kind: str, justification: str | None, approved_hours: int | None) -> list[FieldError]:
    """DEC-3 / VOU-7 / VOU-8: special services carry their justification or approved hours."""
    if kind == "assessment_period" and not (justification or "").strip():
        return [FieldError(field="body.special.justification", rule="VOU-8",
                           message="an assessment period needs its justification")]
    if kind == "intensive_coaching" and not approved_hours:
        return [FieldError(field="body.special.approved_hours", rule="VOU-7",
                           message="intensive coaching needs the approved number of hours")]
    return []
