"""The date rules of issue 13 defect 3, exhaustively: DEC-7 revocation day, DEC-3 decision day
and plausible birth date, DEC-2 plan date (hypothesis over the whole bounded calendar)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from ktt_common.bounds import MAX_DATE, MIN_DATE
from ktt_common.identifiers import hetu_birth_date, validate_hetu

from ktt_decision.consents import rules as consents_rules
from ktt_decision.decisions import rules

dates = st.dates(min_value=MIN_DATE, max_value=MAX_DATE)


@given(revoked=dates, decided=dates, end=dates)
def test_dec7_revocation_day_is_between_the_decision_and_its_period_end(revoked, decided, end):
    errors = rules.check_revoked_on(revoked, decided, end)
    assert (errors == []) == (decided <= revoked <= end)
    for e in errors:
        assert (e.field, e.rule) == ("body.revoked_on", "DEC-7")
        assert (str(decided) if revoked < decided else str(end)) in e.message


@given(decided=dates, today=dates)
def test_dec3_a_decision_is_not_dated_in_the_future(decided, today):
    errors = rules.check_decided_on(decided, today)
    assert (errors == []) == (decided <= today)
    assert all((e.field, e.rule) == ("body.decided_on", "DEC-3") for e in errors)


@given(born=dates, today=st.dates(min_value=dt.date(2000, 1, 1), max_value=MAX_DATE))
def test_dec3_birth_date_within_the_plausible_ages(born, today):
    errors = rules.check_birth_date(born, today)
    earliest = rules.years_before(today, rules.MAX_CLIENT_AGE_YEARS)
    latest = rules.years_before(today, rules.MIN_CLIENT_AGE_YEARS)
    assert (errors == []) == (earliest <= born <= latest)
    assert all((e.field, e.rule) == ("body.client.hetu", "DEC-3") for e in errors)


def test_birth_date_edges_and_leap_days():
    today = dt.date(2028, 2, 29)
    assert rules.years_before(today, 100) == dt.date(1928, 2, 29)  # 1928 was a leap year too
    assert rules.years_before(today, 15) == dt.date(2013, 2, 28)   # 2013 was not
    assert rules.check_birth_date(dt.date(1928, 2, 29), today) == []
    assert rules.check_birth_date(dt.date(1928, 2, 28), today)[0].rule == "DEC-3"
    assert rules.check_birth_date(dt.date(2013, 2, 28), today) == []
    assert rules.check_birth_date(dt.date(2013, 3, 1), today)[0].rule == "DEC-3"


@given(plan=dates, decided=dates, kind=st.sampled_from(["activation_plan", "multisectoral_plan"]))
def test_dec2_plan_before_the_decision_and_not_before_its_law(plan, decided, kind):
    errors = rules.check_plan(plan, decided, kind)
    assert (errors == []) == (plan <= decided and plan >= rules.PLAN_TYPE_SINCE[kind])
    assert all((e.field, e.rule) == ("body.plan.date", "DEC-2") for e in errors)


@given(born=st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2099, 12, 31)),
       individual=st.integers(min_value=2, max_value=899))
def test_the_birth_date_of_a_hetu_is_the_one_it_encodes(born, individual):
    sign = {18: "+", 19: "-", 20: "A"}[born.year // 100]
    digits = f"{born:%d%m%y}{individual:03d}"
    code = f"{born:%d%m%y}{sign}{individual:03d}" + "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(digits) % 31]
    assert hetu_birth_date(validate_hetu(code)) == born


@given(granted=st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)), offset=st.integers(-400, 400),
       today_after=st.integers(0, 400), rule=st.sampled_from(["DATA-1", "VOU-9"]))
def test_a_withdrawal_day_lies_between_the_grant_and_today(granted, offset, today_after, rule):
    """DATA-1 (consents) and VOU-9 (representatives): withdrawn from a day in [granted, today]."""
    today = granted + dt.timedelta(days=today_after)
    day = granted + dt.timedelta(days=offset)
    errors = consents_rules.check_withdrawal_day(day, granted, today, rule=rule, granted="the grant")
    assert (errors == []) == (granted <= day <= today)
    for e in errors:
        assert (e.field, e.rule) == ("body.withdrawn_on", rule) and str(granted) in e.message and str(today) in e.message
