"""Pure rules of a decision: facts in, violations out. Each cites its rule ID."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ktt_common.errors import FieldError
from ktt_common.identifiers import contains_hetu
from ktt_contracts.decision import FieldChange
from ktt_contracts.periods import MAX_MONTHS, NORMAL_MAX_MONTHS, months_end, period_length_problem

# DEC-4 month arithmetic lives in one place, shared with the voucher service's agreement periods.
period_months_end = months_end


def check_period(start: dt.date, end: dt.date, extension_justification: str | None) -> list[FieldError]:
    """DEC-4: a period lasts 3-24 months; over 12 months needs a written justification."""
    try:
        problem = period_length_problem(start, end)
    except (ValueError, OverflowError):  # 24 months after a start in year 9998 is past the calendar's end
        return [FieldError(field="body.period.start", rule="DEC-4",
                           message="the period starts too far in the future to count its months; check the dates")]
    if problem:
        return [FieldError(field="body.period.end", rule="DEC-4", message=problem)]
    if end > months_end(start, NORMAL_MAX_MONTHS) and not (extension_justification or "").strip():
        return [FieldError(field="body.extension_justification", rule="DEC-4",
                           message="a period over 12 months needs a written justification that continuing improves work readiness")]
    return []


# DEC-2: the plans exist since the laws that made them (the act on rehabilitative work activity
# 189/2001 in force 1.9.2001; the multisectoral joint service 1369/2014 in force 1.1.2015).
PLAN_TYPE_SINCE = {"activation_plan": dt.date(2001, 9, 1), "multisectoral_plan": dt.date(2015, 1, 1)}


def check_plan(plan_date: dt.date, decided_on: dt.date, plan_type: str | None = None) -> list[FieldError]:
    """DEC-2: a decision rests on a plan made before it, and not before such plans existed."""
    if plan_date > decided_on:
        return [FieldError(field="body.plan.date", rule="DEC-2",
                           message=f"the plan is dated {plan_date}, after the decision ({decided_on}); a decision rests on an existing plan")]
    since = PLAN_TYPE_SINCE.get(plan_type or "")
    if since is not None and plan_date < since:
        return [FieldError(field="body.plan.date", rule="DEC-2",
                           message=f"the plan is dated {plan_date}, but a {(plan_type or '').replace('_', ' ')} exists only "
                                   f"since {since}: check the date")]
    return []


def check_decided_on(decided_on: dt.date, today: dt.date) -> list[FieldError]:
    """DEC-3: a decision records the day it was made, which has come."""
    if decided_on > today:
        return [FieldError(field="body.decided_on", rule="DEC-3",
                           message=f"the decision is dated {decided_on}, in the future: push it once it is made "
                                   f"(on or before {today})")]
    return []


# DEC-3 / DEC-8: a plausible client of KTT, a job seeker of working age or somewhat past it.
MIN_CLIENT_AGE_YEARS = 15
MAX_CLIENT_AGE_YEARS = 100


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` years earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def check_birth_date(born: dt.date, today: dt.date, field: str = "body.client.hetu") -> list[FieldError]:
    """DEC-3: the hetu is valid for a living client of the target group: born at most
    MAX_CLIENT_AGE_YEARS and at least MIN_CLIENT_AGE_YEARS years ago (python-stdnum checks the rest)."""
    earliest, latest = years_before(today, MAX_CLIENT_AGE_YEARS), years_before(today, MIN_CLIENT_AGE_YEARS)
    if earliest <= born <= latest:
        return []
    return [FieldError(field=field, rule="DEC-3",
                       message=f"the personal identity code says the client was born on {born}; a client of KTT is "
                               f"born between {earliest} and {latest}: check the code and its century sign")]


def check_revoked_on(revoked_on: dt.date, decided_on: dt.date, period_end: dt.date) -> list[FieldError]:
    """DEC-7: a revocation takes effect on a day from the decision to the end of its period; the
    voucher and the agreements end with it, so a day outside would end them in the wrong place."""
    if revoked_on < decided_on:
        return [FieldError(field="body.revoked_on", rule="DEC-7",
                           message=f"the decision was made on {decided_on}; it cannot be revoked from {revoked_on}, "
                                   f"before that: give a day on or after {decided_on}")]
    if revoked_on > period_end:
        return [FieldError(field="body.revoked_on", rule="DEC-7",
                           message=f"the decision's period ends on {period_end}; revoking it from {revoked_on} "
                                   f"changes nothing: give a day on or before {period_end}")]
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


# --- DEC-4 across the client's decisions --------------------------------------------------------

@dataclass(frozen=True)
class OtherDecision:
    """Another non-revoked decision of the same client, as DEC-4 needs it."""

    ref: str
    start: dt.date
    end: dt.date


def period_days(start: dt.date, end: dt.date) -> int:
    """Days of a period, both ends included."""
    return (end - start).days + 1


def months_in_days(first_start: dt.date, months: int) -> int:
    """How many days ``months`` months are when counted from ``first_start`` (DEC-4)."""
    return period_days(first_start, months_end(first_start, months))


def overlapping(start: dt.date, end: dt.date, others: Iterable[OtherDecision]) -> list[OtherDecision]:
    """The other decisions whose period shares at least one day with start..end (both ends included)."""
    return sorted((o for o in others if o.start <= end and start <= o.end), key=lambda o: o.start)


def check_no_overlap(start: dt.date, end: dt.date, others: Iterable[OtherDecision]) -> list[FieldError]:
    """DEC-4: decisions of one client never overlap. Names the other decision and its period, and
    the field to move: the start when it falls inside the other period, else the end."""
    errors = []
    for other in overlapping(start, end, others):
        if other.start <= start:
            field, fix = "body.period.start", f"start on or after {other.end + dt.timedelta(days=1)}"
        else:
            field, fix = "body.period.end", f"end on or before {other.start - dt.timedelta(days=1)}"
        errors.append(FieldError(
            field=field, rule="DEC-4",
            message=f"the client's decision {other.ref} already covers {other.start} to {other.end}, and decisions "
                    f"of one client never overlap: {fix}, or amend or revoke that decision first"))
    return errors


def check_client_total(start: dt.date, end: dt.date, others: Sequence[OtherDecision],
                       extension_justification: str | None) -> list[FieldError]:
    """DEC-4: the client's voucher-bought KTT totals at most 24 months across all their decisions,
    and past the normal year it needs a written justification.

    Counted in days: the days of every non-overlapping period (this one and the client's other
    non-revoked decisions) are summed and compared with the length of 24 months counted from the
    client's first start. For back-to-back decisions this is exactly "the last one ends at most
    24 months after the first started"; a break between decisions does not use the allowance up.
    A decision needs the justification when, with the decisions that start before it, the total
    passes 12 months counted the same way. Assumes no overlap (check that first)."""
    if not others:
        return []  # one decision alone: check_period says it all
    first = min(start, *(o.start for o in others))
    own = period_days(start, end)
    others_days = sum(period_days(o.start, o.end) for o in others)
    total = own + others_days
    cap = months_in_days(first, MAX_MONTHS)
    if total > cap:
        left = cap - others_days
        fix = (f"end on or before {start + dt.timedelta(days=left - 1)}" if left > 0
               else "the client has no voucher-bought KTT left")
        return [FieldError(
            field="body.period.end", rule="DEC-4",
            message=f"a client's voucher-bought KTT totals at most {MAX_MONTHS} months across all decisions "
                    f"({cap} days counted from the first start, {first}); the client's other decisions take "
                    f"{others_days} days and this period {own}, {total} in all: {fix}")]
    before = own + sum(period_days(o.start, o.end) for o in others if o.start < start)
    normal = months_in_days(first, NORMAL_MAX_MONTHS)
    if before > normal and not (extension_justification or "").strip():
        return [FieldError(
            field="body.extension_justification", rule="DEC-4",
            message=f"with the client's earlier decisions this one takes their voucher-bought KTT to {before} days, "
                    f"past the normal {NORMAL_MAX_MONTHS} months ({normal} days from {first}): continuing needs a "
                    "written justification that it improves work readiness")]
    return []


def check_client_periods(start: dt.date, end: dt.date, others: Sequence[OtherDecision],
                         extension_justification: str | None) -> list[FieldError]:
    """DEC-4 across decisions: no overlap, then the total (which is only meaningful without overlap)."""
    return check_no_overlap(start, end, others) or check_client_total(start, end, others, extension_justification)


# --- VOU-3: the day the client received the decision ----------------------------------------------

def check_received_on(received_on: dt.date | None, decided_on: dt.date, today: dt.date) -> list[FieldError]:
    """VOU-3: the 7- and 14-day deadlines count from the day the client received the decision. That
    day is not before the decision and not in the future (none sent: the decision day is used)."""
    if received_on is None:
        return []
    if received_on < decided_on:
        return [FieldError(field="body.received_on", rule="VOU-3",
                           message=f"the client cannot receive the decision before it was made ({decided_on}): "
                                   f"give a date on or after {decided_on}")]
    if received_on > today:
        return [FieldError(field="body.received_on", rule="VOU-3",
                           message=f"the receipt date {received_on} is in the future: give the day the client "
                                   f"received the decision, on or before {today}, or leave it out until then")]
    return []


# --- DATA-4: no hetu in what is published ---------------------------------------------------------

def check_no_hetu(fields: dict[str, str | None]) -> list[FieldError]:
    """DATA-4: text that travels in events or URLs must not hold a personal identity code."""
    return [FieldError(field=field, rule="DATA-4",
                       message="this looks like a personal identity code; it is never published (DATA-4): leave it out")
            for field, value in fields.items() if value and contains_hetu(value)]


# --- DEC-9: what is a refusal or an interruption --------------------------------------------------


# --- VOU-9: representatives -----------------------------------------------------------------------


# Fields whose old and new values may travel in DecisionAmended. Everything else that changes
# (client contact data, case worker, free-text justifications) is named in
# ``personal_fields_changed`` but its values stay in this service (DATA-3, DATA-4).
_EVENT_VALUE_FIELDS = (
    "decided_on", "received_on", "period_start", "period_end", "form", "benefit_basis", "voucher_kind", "approved_hours",
    "case_worker_office", "language", "plan.type", "plan.reference", "plan.date", "special.kind",
)


def _flatten(content: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in content.items():
        if key in ("version", "source_system", "source_id"):
            continue
        if isinstance(value, dict):
            for sub, v in value.items():
                flat[f"{key}.{sub}"] = v
        else:
            flat[key] = value
    flat["period_start"], flat["period_end"] = flat.pop("period.start"), flat.pop("period.end")
    flat["approved_hours"] = flat.pop("special.approved_hours", None)
    flat["case_worker_office"] = flat.pop("case_worker.office", None)
    flat["language"] = flat.pop("client.language", None)
    flat["voucher_kind"] = "regular" if flat.get("special.kind") == "none" else flat.get("special.kind")
    # VOU-3: the receipt day that applies (versions stored before it existed, or sent without it: decided_on).
    flat["received_on"] = flat.get("received_on") or flat.get("decided_on")
    return flat


def amendment_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, FieldChange], list[str]]:
    """DEC-7: what a new version changes: (fields with old/new values, names of changed personal fields)."""
    a, b = _flatten(old), _flatten(new)
    changes: dict[str, FieldChange] = {}
    personal: list[str] = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) == b.get(key):
            continue
        if key in _EVENT_VALUE_FIELDS:
            changes[key] = FieldChange(old=a.get(key), new=b.get(key))
        else:
            personal.append(key)
    return changes, personal
