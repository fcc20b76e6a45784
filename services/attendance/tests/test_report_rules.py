"""The pure rules of reports (REP-1..REP-6, ATT-11, VOU-7), at their boundaries and with hypothesis
over dates."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ktt_attendance.reports import rules

D = dt.date
PLAN = {"next_service": "education", "where": "TAI", "to_whom": "opinto-ohjaaja", "when": "2027-08-15"}
COMPLETE = {
    "monthly_follow_up": {"month": "2027-01", "assessment": "ok"},
    "interim_evaluation": {"period_id": "p", "progress": "ok", "next_period_goals": "4 päivää"},
    "final_evaluation": {"goals": "g", "results": "r", "strengths": "s", "development_areas": "d", "follow_up_plan": PLAN},
    "coaching_hours": {"month": "2027-01", "hours": [{"date": D(2027, 1, 4), "hours": 2, "content": "c"}]},
    "assessment_period": {"justification": "j", "content": "c", "findings": "f"},
    "group_evaluation": {"functional_capacity": "f", "work_readiness": "w", "follow_up_plan": PLAN},
    "certificate_of_participation": {},
}


def test_every_kind_has_its_required_fields_and_a_complete_report_lacks_none():
    assert set(COMPLETE) == set(rules.KINDS) == set(rules.REQUIRED)
    for kind, body in COMPLETE.items():
        assert rules.missing_fields(kind, body) == [], kind


@pytest.mark.parametrize("kind", [k for k in rules.KINDS if rules.REQUIRED[k]])
def test_rep1_every_missing_field_is_listed_at_once_with_its_rule(kind):
    missing = rules.missing_fields(kind, {})
    assert [m.field for m in missing] == [f"body.{name}" for name, _, _ in rules.REQUIRED[kind]]
    assert all(m.rule == rule for m, (_, rule, _) in zip(missing, rules.REQUIRED[kind], strict=True))
    for name, _, _ in rules.REQUIRED[kind]:  # each one alone is caught; blank text counts as missing
        blank = "  " if isinstance(COMPLETE[kind][name], str) else None
        assert [m.field for m in rules.missing_fields(kind, {**COMPLETE[kind], name: blank})] == [f"body.{name}"]


@pytest.mark.parametrize("kind,rule", [("final_evaluation", "REP-4"), ("group_evaluation", "REP-6")])
def test_rep4_rep6_the_follow_up_plan_names_the_next_service_where_to_whom_and_when(kind, rule):
    for name in ("next_service", "where", "to_whom", "when"):
        body = {**COMPLETE[kind], "follow_up_plan": {k: v for k, v in PLAN.items() if k != name}}
        assert [(m.field, m.rule) for m in rules.missing_fields(kind, body)] == [(f"body.follow_up_plan.{name}", rule)]


@given(st.dates(min_value=D(2000, 1, 8), max_value=D(2100, 12, 31)))
def test_rep3_rep4_an_evaluation_is_due_exactly_a_week_before_the_period_ends_and_late_the_day_after(end):
    due = rules.evaluation_due(end)
    assert (end - due).days == 7 and due.weekday() == end.weekday()
    assert not rules.is_late(due, due) and rules.is_late(due, due + dt.timedelta(days=1))
    assert not rules.is_late(None, end)


@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 11, 30)))
def test_att11_the_follow_up_of_a_month_is_due_on_the_3rd_of_the_next(day):
    month = f"{day:%Y-%m}"
    due = rules.follow_up_due(month)
    last = D(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
    assert due == last + dt.timedelta(days=3) and due.day == 3
    assert rules.previous_month(due) == month
    assert rules.follow_up_due("2027-13") is None


def test_the_previous_month_wraps_the_year():
    assert rules.previous_month(D(2027, 1, 1)) == "2026-12" and rules.previous_month(D(2027, 3, 31)) == "2027-02"
    assert rules.previous_month(D(1, 1, 5)) is None


def test_rep3_rep4_rep6_the_evaluation_of_a_period():
    assert rules.evaluation_kind(False, "group") == "interim_evaluation"
    assert rules.evaluation_kind(True, "individual") == "final_evaluation"
    assert rules.evaluation_kind(True, "group") == "group_evaluation"


def test_rep4_agr5_the_final_evaluation_goes_to_typake_and_a_social_worker_case_worker():
    assert rules.recipients("final_evaluation", "social_work") == ["case_worker", "typake", "social_worker"]
    assert rules.recipients("group_evaluation", "typake") == ["case_worker", "typake"]
    assert rules.recipients("monthly_follow_up", "social_work") == ["case_worker"]


JAN = (D(2027, 1, 1), D(2027, 1, 31))


def _hours(*pairs):
    return [{"date": d, "hours": Decimal(str(h)), "content": "c"} for d, h in pairs]


@given(st.lists(st.integers(1, 24), min_size=1, max_size=20, unique=True), st.integers(1, 60), st.integers(0, 40))
def test_vou7_hours_within_the_approved_hours_only(days, approved, earlier):
    rows = _hours(*((D(2027, 1, d), 2) for d in days))
    problems = rules.hours_problems(rows, approved, Decimal(earlier), *JAN, D(2027, 1, 31))
    assert (problems != []) == (2 * len(days) + earlier > approved)
    assert all(p.rule == "VOU-7" for p in problems)


def test_vou7_hour_rows_lie_in_the_month_once_and_not_ahead_of_today():
    rows = _hours((D(2027, 1, 4), 1), (D(2027, 1, 4), 1), (D(2027, 2, 1), 1), (D(2027, 1, 30), 1))
    problems = rules.hours_problems(rows, 100, Decimal(0), *JAN, D(2027, 1, 29))
    assert [p.field for p in problems] == ["body.hours.1.date", "body.hours.2.date", "body.hours.3.date"]
    assert rules.hours_problems(rows[:1], None, Decimal(0), *JAN, D(2027, 1, 29))[0].message.startswith("the decision approves no")


def test_rep5_the_certificate_is_made_from_the_last_day():
    assert rules.certificate_problem(D(2027, 1, 14), D(2027, 1, 13)) is not None
    assert rules.certificate_problem(D(2027, 1, 14), D(2027, 1, 14)) is None
    assert rules.certificate_problem(None, D(2027, 1, 14)) is not None


def test_rep1_the_states_move_due_submitted_returned_submitted_accepted():
    assert rules.transition_problem("due", "submit") is None and rules.transition_problem("returned", "submit") is None
    assert rules.transition_problem("submitted", "return") is None and rules.transition_problem("submitted", "accept") is None
    assert rules.transition_problem("awaiting_signature", "sign") is None
    for state, action in (("accepted", "submit"), ("due", "accept"), ("returned", "accept"), ("accepted", "return"),
                          ("submitted", "sign")):
        assert rules.transition_problem(state, action) is not None, (state, action)
