"""Pure rules of reports and evaluations: what each kind must hold, when it is due, who signs and
who receives it. Facts in, verdict out; every verdict names its rule.

REP-1 kinds; ATT-11 the monthly follow-up, due by the 3rd of the next month; REP-3 the interim and
REP-4 the final evaluation a week before the period (service) ends; REP-4 the follow-up plan names
the next service and where, to whom and when; VOU-7 coaching hours within the approved hours, hour
by hour with content; VOU-8 the assessment period's justification, content and findings; REP-6 the
group evaluation and plan; REP-2 the client's signature; REP-5 the certificate at the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ktt_attendance.months.rules import due_on as month_due_on
from ktt_attendance.months.rules import month_of, parse_month

EVALUATION_LEAD = dt.timedelta(days=7)  # REP-3, REP-4: a week before the period ends

MONTHLY_FOLLOW_UP = "monthly_follow_up"
INTERIM = "interim_evaluation"
FINAL = "final_evaluation"
COACHING = "coaching_hours"
ASSESSMENT = "assessment_period"
GROUP = "group_evaluation"
CERTIFICATE = "certificate_of_participation"
KINDS = (MONTHLY_FOLLOW_UP, INTERIM, FINAL, COACHING, ASSESSMENT, GROUP, CERTIFICATE)

# REP-2 (and VOU-7 for the hour report): reports to the city are signed by the client. The monthly
# follow-up may come by secure e-mail (ATT-11) and the certificate is given to the client.
NEEDS_SIGNATURE = frozenset({INTERIM, FINAL, COACHING, ASSESSMENT, GROUP})
# Which of period_id / month places a report of each kind (a key part), and the kinds with one
# report per agreement.
BY_MONTH = frozenset({MONTHLY_FOLLOW_UP, COACHING})
BY_PERIOD = frozenset({INTERIM})
NEXT_SERVICES = ("work_trial", "pay_subsidised_work", "education", "rehabilitative_work_elsewhere", "other")

# The fields each kind requires, with the rule that requires them (REP-1).
REQUIRED: dict[str, tuple[tuple[str, str, str], ...]] = {
    MONTHLY_FOLLOW_UP: (("month", "ATT-11", "the month followed up, YYYY-MM"),
                        ("assessment", "ATT-11", "how the client is doing this month")),
    INTERIM: (("period_id", "REP-3", "the agreement period evaluated"),
              ("progress", "REP-3", "how the client progressed towards the period's goals"),
              ("next_period_goals", "AGR-10", "the goals of the continuation period")),
    FINAL: (("goals", "REP-4", "the goals set for the service"),
            ("results", "REP-4", "the results achieved"),
            ("strengths", "REP-4", "the client's strengths"),
            ("development_areas", "REP-4", "skills and areas still to develop"),
            ("follow_up_plan", "REP-4", "the follow-up plan: next service, where, to whom, when")),
    COACHING: (("month", "VOU-7", "the month of the coaching hours, YYYY-MM"),
               ("hours", "VOU-7", "the hours day by day with their content")),
    ASSESSMENT: (("justification", "VOU-8", "why the assessment period was needed"),
                 ("content", "VOU-8", "what the assessment period held"),
                 ("findings", "VOU-8", "what the assessment found")),
    GROUP: (("functional_capacity", "REP-6", "the client's functioning in the group"),
            ("work_readiness", "REP-6", "readiness for work or education against the plans"),
            ("follow_up_plan", "REP-6", "the follow-up plan: next service, where, to whom, when")),
    CERTIFICATE: (),
}
PLAN_FIELDS = (("next_service", "the next service: " + ", ".join(NEXT_SERVICES)),
               ("where", "the organisation or place the client goes to"),
               ("to_whom", "the contact person there"),
               ("when", "when the client goes there"))


@dataclass(frozen=True)
class Missing:
    field: str
    rule: str
    message: str


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, (list, dict)) and not value)


def missing_fields(kind: str, body: Mapping[str, Any]) -> list[Missing]:
    """REP-1: every required field of ``kind`` that ``body`` lacks, each with its rule. A follow-up
    plan (REP-4, REP-6) must name the next service, where, to whom and when."""
    out = [Missing(f"body.{name}", rule, f"{message} is required in a {kind} report")
           for name, rule, message in REQUIRED[kind] if _blank(body.get(name))]
    plan = body.get("follow_up_plan")
    plan_rule = "REP-6" if kind == GROUP else "REP-4"
    if kind in (FINAL, GROUP) and isinstance(plan, Mapping) and plan:
        out += [Missing(f"body.follow_up_plan.{name}", plan_rule, f"{message} is required in the follow-up plan")
                for name, message in PLAN_FIELDS if _blank(plan.get(name))]
    return out


def evaluation_due(period_end: dt.date) -> dt.date:
    """REP-3 / REP-4: an interim or final evaluation is due a week before the period ends."""
    return period_end - EVALUATION_LEAD


def follow_up_due(month: str) -> dt.date | None:
    """ATT-11 (with ATT-10): the month's follow-up is due by the 3rd of the next month."""
    bounds = parse_month(month)
    return month_due_on(bounds[1]) if bounds else None


def is_late(due: dt.date | None, on: dt.date) -> bool:
    """A report not delivered by its due day is late from the day after it."""
    return due is not None and on > due


def previous_month(day: dt.date) -> str | None:
    """The month before ``day``'s month (None before year 1)."""
    first = day.replace(day=1)
    if first == dt.date.min:
        return None
    return month_of(first - dt.timedelta(days=1))


def evaluation_kind(final: bool, form: str | None) -> str:
    """REP-3 when the client continues, REP-4 at the end; a group client's end evaluation is the
    group evaluation with its plan (REP-6)."""
    if not final:
        return INTERIM
    return GROUP if form == "group" else FINAL


def report_key(kind: str, *, month: str | None, period_id: Any) -> str:
    """The natural key of a report within its agreement: the month of a monthly follow-up or an
    hour report (ATT-11, VOU-7), the period of an interim evaluation (REP-3); every other kind
    comes once per agreement (REP-4, REP-5, REP-6, VOU-8)."""
    if kind in BY_MONTH:
        return f"{kind}:{month}"
    if kind in BY_PERIOD:
        return f"{kind}:{period_id}"
    return kind


def hours_problems(hours: list[Mapping[str, Any]], approved: int | None, already: Decimal, first: dt.date,
                   last: dt.date, today: dt.date) -> list[Missing]:
    """VOU-7: coaching is agreed with the case worker and paid for approved hours only: the hours
    reported (with those already reported on the agreement) stay within the decision's approved
    hours; each day lies in the report's month, within the agreement and not ahead of today, once."""
    out: list[Missing] = []
    if approved is None or approved <= 0:
        return [Missing("body.hours", "VOU-7", "the decision approves no intensive coaching hours for this client")]
    seen: set[dt.date] = set()
    for i, row in enumerate(hours):
        day = row["date"]
        if day in seen:
            out.append(Missing(f"body.hours.{i}.date", "VOU-7", f"{day} is reported twice: one row a day"))
        seen.add(day)
        if not first <= day <= last or day > today:
            out.append(Missing(f"body.hours.{i}.date", "VOU-7",
                               f"{day} is outside the month and agreement ({first}..{min(last, today)})"))
    total = sum((Decimal(str(r["hours"])) for r in hours), Decimal(0))
    if total + already > approved:
        out.append(Missing("body.hours", "VOU-7",
                           f"{total + already} hours with those already reported exceed the {approved} hours the "
                           f"decision approves; report at most {max(Decimal(approved) - already, Decimal(0))}"))
    return out


def certificate_problem(last_day: dt.date | None, today: dt.date) -> str | None:
    """REP-5: the certificate of participation is given at the end of the service."""
    if last_day is None:
        return "the agreement's dates are not known yet"
    if today < last_day:
        return f"the certificate of participation is made when the service ends ({last_day}); today is {today}"
    return None


def recipients(kind: str, case_worker_office: str | None) -> list[str]:
    """REP-4 / AGR-5: reports go to the case worker; the final evaluation and plan (and a group
    client's, REP-6) also to Typake, and to the social worker when one is the case worker."""
    out = ["case_worker"]
    if kind in (FINAL, GROUP):
        out.append("typake")
        if case_worker_office == "social_work":
            out.append("social_worker")
    return out


STATES = ("due", "late", "awaiting_signature", "submitted", "returned", "accepted")
OPEN_FOR_SUBMISSION = frozenset({"due", "late", "returned", "awaiting_signature"})


def transition_problem(state: str, action: str) -> str | None:
    """REP-1: due -> submitted (-> returned -> submitted) -> accepted; awaiting_signature until the
    client signs (REP-2); late when the due day passes."""
    allowed = {
        "submit": OPEN_FOR_SUBMISSION,
        "sign": frozenset({"awaiting_signature"}),
        "return": frozenset({"submitted"}),
        "accept": frozenset({"submitted"}),
    }[action]
    if state in allowed:
        return None
    done = {"submit": "submitted", "sign": "signed", "return": "returned", "accept": "accepted"}[action]
    return f"a {state} report cannot be {done}; only a report that is " + " or ".join(sorted(allowed)) + " can"
