"""Pure rules of a decision at their boundaries: DEC-4 (period), DEC-2 (plan), DEC-8 (home
municipality), DATA-1 (consent) and DEC-7 (what an amendment changed)."""

from __future__ import annotations

import calendar
import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st

from ktt_decision import rules
from ktt_decision.service import amendment_changes

DAY = dt.timedelta(days=1)
starts = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31))


def oracle_end(start: dt.date, months: int) -> dt.date:
    """Independent reckoning of DEC-4's 'n months from start': the day before the same day of
    the month n months later, or that month's last day when it has no such day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if start.day > last:
        return dt.date(year, month, last)
    return dt.date(year, month, start.day) - DAY


def rule_ids(errors) -> set[str]:
    return {e.rule for e in errors}


@given(starts)
@example(dt.date(2027, 1, 31))   # month-end start: 3 months end 30.4.
@example(dt.date(2024, 2, 29))   # leap day: 12 months end 28.2.2025
@example(dt.date(2023, 11, 30))  # 3 months reach February of a leap year
@example(dt.date(2026, 12, 1))
def test_dec4_period_boundaries_for_any_start(start: dt.date) -> None:
    """DEC-4: exactly 3 months accepted, a day less refused; exactly 12 months accepted without a
    justification, a day more refused without one; exactly 24 months accepted with a
    justification, a day more refused even with one."""
    three, twelve, twenty_four = oracle_end(start, 3), oracle_end(start, 12), oracle_end(start, 24)
    assert rules.period_months_end(start, 3) == three
    assert rules.check_period(start, three, None) == []
    assert rule_ids(rules.check_period(start, three - DAY, None)) == {"DEC-4"}
    assert rules.check_period(start, twelve, None) == []
    too_long = rules.check_period(start, twelve + DAY, None)
    assert rule_ids(too_long) == {"DEC-4"} and too_long[0].field == "body.extension_justification"
    assert rules.check_period(start, twelve + DAY, "Continuing improves work readiness") == []
    assert rules.check_period(start, twenty_four, "Continuing improves work readiness") == []
    over = rules.check_period(start, twenty_four + DAY, "Continuing improves work readiness")
    assert rule_ids(over) == {"DEC-4"} and str(twenty_four) in over[0].message
    assert rule_ids(rules.check_period(start, twenty_four, "   ")) == {"DEC-4"}  # blank is no justification


@given(starts)
def test_dec4_month_lengths_are_sane_and_a_later_start_never_ends_earlier(start: dt.date) -> None:
    """DEC-4: 3 months is 89-92 days, 12 months 365-366, and the minimum end moves monotonically."""
    for months, low, high in ((3, 89, 92), (12, 365, 366), (24, 730, 731)):
        days = (rules.period_months_end(start, months) - start).days + 1
        assert low <= days <= high, (start, months, days)
        assert rules.period_months_end(start + DAY, months) >= rules.period_months_end(start, months)


def test_dec4_month_end_and_leap_day_examples() -> None:
    assert rules.period_months_end(dt.date(2027, 1, 31), 3) == dt.date(2027, 4, 30)
    assert rules.period_months_end(dt.date(2027, 1, 30), 1) == dt.date(2027, 2, 28)
    assert rules.period_months_end(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert rules.period_months_end(dt.date(2024, 2, 29), 48) == dt.date(2028, 2, 28)
    assert rules.period_months_end(dt.date(2026, 12, 1), 12) == dt.date(2027, 11, 30)
    assert rule_ids(rules.check_period(dt.date(2027, 1, 31), dt.date(2027, 4, 29), None)) == {"DEC-4"}
    assert rules.check_period(dt.date(2027, 1, 31), dt.date(2027, 4, 30), None) == []
    assert rule_ids(rules.check_period(dt.date(2027, 1, 31), dt.date(2027, 1, 30), None)) == {"DEC-4"}  # ends before start


def test_dec2_plan_dated_on_the_decision_day_accepted_a_day_after_refused() -> None:
    decided = dt.date(2026, 11, 25)
    assert rules.check_plan(decided, decided) == []
    errors = rules.check_plan(decided + DAY, decided)
    assert rule_ids(errors) == {"DEC-2"} and errors[0].field == "body.plan.date"


def test_dec8_home_municipality_is_compared_case_insensitively_and_can_be_turned_off() -> None:
    assert rules.check_home_municipality("turku ", "Turku", enabled=True) == []
    assert rules.check_home_municipality("TURKU", "Turku", enabled=True) == []
    errors = rules.check_home_municipality("Kaarina", "Turku", enabled=True)
    assert rule_ids(errors) == {"DEC-8"} and errors[0].field == "body.client.municipality"
    assert rules.check_home_municipality("Kaarina", "Turku", enabled=False) == []


def test_data1_consent_holds_from_given_until_valid_until_and_not_from_the_withdrawal_day() -> None:
    given, until = dt.date(2026, 11, 1), dt.date(2026, 12, 31)

    def covers(today: dt.date, scope: str = "plan", withdrawn: dt.date | None = None) -> bool:
        return rules.consent_covers(scope=["plan"], given_on=given, valid_until=until, withdrawn_on=withdrawn,
                                    wanted_scope=scope, today=today)

    assert covers(given) and covers(until)
    assert not covers(given - DAY) and not covers(until + DAY)
    assert not covers(dt.date(2026, 11, 20), scope="decision")
    assert covers(dt.date(2026, 11, 19), withdrawn=dt.date(2026, 11, 20))
    assert not covers(dt.date(2026, 11, 20), withdrawn=dt.date(2026, 11, 20))


def _content(**over):
    content = {
        "source_system": "effica", "source_id": "X", "version": 1, "decided_on": "2026-11-25", "decided_by": "L",
        "client": {"first_name": "Matti", "last_name": "M", "language": "fi", "municipality": "Turku",
                   "phone": "+358401234567", "email": None, "address": None, "interpreter_needed": False},
        "case_worker": {"name": "L", "phone": None, "email": None, "office": "typake"},
        "plan": {"type": "activation_plan", "reference": "AS-1", "date": "2026-11-20"},
        "benefit_basis": "labour_market_subsidy", "period": {"start": "2026-12-01", "end": "2027-11-30"},
        "form": "individual", "special": {"kind": "none", "justification": None, "approved_hours": None},
        "extension_justification": None,
    }
    for key, value in over.items():
        content[key] = value
    return content


def test_dec7_amendment_changes_carry_values_of_facts_and_only_names_of_personal_fields() -> None:
    old = _content()
    new = _content(version=3, period={"start": "2026-12-01", "end": "2028-05-31"}, extension_justification="Improves",
                   special={"kind": "intensive_coaching", "justification": None, "approved_hours": 40})
    new["client"] = dict(old["client"], phone="+358409999999")
    changes, personal = amendment_changes(old, new)
    assert {k: (v.old, v.new) for k, v in changes.items()} == {
        "period_end": ("2027-11-30", "2028-05-31"),
        "special.kind": ("none", "intensive_coaching"),
        "voucher_kind": ("regular", "intensive_coaching"),
        "approved_hours": (None, 40),
    }
    assert personal == ["client.phone", "extension_justification"]
    assert amendment_changes(old, _content(version=2)) == ({}, [])
