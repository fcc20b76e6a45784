"""Pure rules of a decision: facts in, violations out. Each cites its rule ID."""

from __future__ import annotations

import datetime as dt

from ktt_common.errors import FieldError
from ktt_contracts.periods import NORMAL_MAX_MONTHS, months_end, period_length_problem

# DEC-4 month arithmetic lives in one place, shared with the voucher service's agreement periods.
period_months_end = months_end


def check_period(start: dt.date, end: dt.date, extension_justification: str | None) -> list[FieldError]:
    """DEC-4: a period lasts 3-24 months; over 12 months needs a written justification."""
    problem = period_length_problem(start, end)
    if problem:
        return [FieldError(field="body.period.end", rule="DEC-4", message=problem)]
    if end > months_end(start, NORMAL_MAX_MONTHS) and not (extension_justification or "").strip():
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


def check_home_municipality(municipality: str, home: str, *, enabled: bool) -> list[FieldError]:
    """DEC-8: the target group is job seekers living in the city (when the check is configured on).

    Compared case-insensitively and without surrounding spaces ("TURKU" is Turku).
    """
    if not enabled:
        return []
    if municipality.strip().casefold() != home.strip().casefold():
        return [FieldError(field="body.client.municipality", rule="DEC-8",
                           message=f"the client lives in {municipality.strip()!r}, not in {home}; KTT bought with "
                                   f"{home}'s vouchers is for its own residents (turn HOME_MUNICIPALITY_CHECK off "
                                   "only if the city decides otherwise)")]
    return []


def consent_covers(*, scope: list[str], given_on: dt.date, valid_until: dt.date | None, withdrawn_on: dt.date | None,
                   wanted_scope: str, today: dt.date) -> bool:
    """DATA-1: a written consent lets a provider see data of its scope from the day it was given
    until it expires or is withdrawn (withdrawn on a day: not valid from that day on)."""
    if wanted_scope not in scope or given_on > today:
        return False
    if valid_until is not None and today > valid_until:
        return False
    return withdrawn_on is None or today < withdrawn_on
