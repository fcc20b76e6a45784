"""The consent date rules as pure functions (``consents/rules.py``, DATA-1): dates in, verdict out,
over the whole bounded calendar (hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from ktt_common.bounds import MAX_DATE, MIN_DATE

from ktt_decision.consents import rules

dates = st.dates(min_value=MIN_DATE, max_value=MAX_DATE)
scopes = st.lists(st.sampled_from(["plan", "decision", "contact"]), min_size=1, max_size=3, unique=True)


@given(given_on=dates, valid_until=st.none() | dates, today=dates)
def test_data1_a_consent_is_given_by_today_and_ends_no_earlier_than_it_starts(given_on, valid_until, today):
    errors = rules.check_consent_dates(given_on, valid_until, today)
    expected = set()
    if given_on > today:
        expected.add("body.given_on")
    if valid_until is not None and valid_until < given_on:
        expected.add("body.valid_until")
    assert {e.field for e in errors} == expected
    assert all(e.rule == "DATA-1" for e in errors)
    for e in errors:
        if e.field == "body.given_on":
            assert str(today) in e.message


@given(scope=scopes, wanted=st.sampled_from(["plan", "decision", "contact"]), given_on=dates,
       valid_until=st.none() | dates, withdrawn_on=st.none() | dates, today=dates)
def test_data1_a_consent_covers_its_scope_from_the_day_given_to_its_end_or_withdrawal(scope, wanted, given_on, valid_until,
                                                                                     withdrawn_on, today):
    covers = rules.consent_covers(scope=scope, given_on=given_on, valid_until=valid_until, withdrawn_on=withdrawn_on,
                                  wanted_scope=wanted, today=today)
    assert covers == (wanted in scope and given_on <= today and (valid_until is None or today <= valid_until)
                      and (withdrawn_on is None or today < withdrawn_on))


def test_data1_withdrawn_today_no_longer_covers_today_but_covered_yesterday():
    day = dt.date(2026, 3, 10)
    args = {"scope": ["plan"], "given_on": dt.date(2026, 1, 1), "valid_until": None, "withdrawn_on": day,
            "wanted_scope": "plan"}
    assert rules.consent_covers(**args, today=day - dt.timedelta(days=1))
    assert not rules.consent_covers(**args, today=day)


def test_data1_a_consent_names_a_known_provider_not_a_removed_one():
    assert [e.rule for e in rules.check_consent_provider("p1", None)] == ["DATA-1"]
    assert [e.field for e in rules.check_consent_provider("p1", "removed")] == ["body.provider_id"]
    assert rules.check_consent_provider("p1", "approved") == []
