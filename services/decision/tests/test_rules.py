"""Pure rules of a decision at their boundaries: DEC-4 (period), DEC-2 (plan), DEC-8 (home
municipality), DATA-1 (consent) and DEC-7 (what an amendment changed)."""

from __future__ import annotations

import calendar
import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st

from ktt_decision.consents import rules as consents_rules
from ktt_decision.decisions import rules
from ktt_decision.flags import rules as flags_rules
from ktt_decision.representatives import rules as representatives_rules
from ktt_decision.decisions.service import amendment_changes

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
        return consents_rules.consent_covers(scope=["plan"], given_on=given, valid_until=until, withdrawn_on=withdrawn,
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


# --- DEC-4 across the client's decisions ---------------------------------------------------------

def other(start: dt.date, end: dt.date, ref: str = "effica/A") -> rules.OtherDecision:
    return rules.OtherDecision(ref=ref, start=start, end=end)


def test_dec4_overlap_boundaries_name_the_field_and_the_other_period() -> None:
    a = other(dt.date(2026, 12, 1), dt.date(2027, 11, 30))
    # Back to back on either side: no overlap.
    assert rules.check_no_overlap(dt.date(2027, 12, 1), dt.date(2028, 2, 29), [a]) == []
    assert rules.check_no_overlap(dt.date(2026, 8, 1), dt.date(2026, 11, 30), [a]) == []
    # One shared day at the new start: move the start.
    [e] = rules.check_no_overlap(dt.date(2027, 11, 30), dt.date(2028, 2, 29), [a])
    assert (e.rule, e.field) == ("DEC-4", "body.period.start")
    assert "effica/A" in e.message and "2026-12-01 to 2027-11-30" in e.message and "on or after 2027-12-01" in e.message
    # One shared day at the new end: move the end.
    [e] = rules.check_no_overlap(dt.date(2026, 8, 1), dt.date(2026, 12, 1), [a])
    assert (e.rule, e.field) == ("DEC-4", "body.period.end") and "on or before 2026-11-30" in e.message
    # Covering the other period entirely.
    [e] = rules.check_no_overlap(dt.date(2026, 11, 1), dt.date(2028, 1, 31), [a])
    assert e.field == "body.period.end" and "2026-12-01 to 2027-11-30" in e.message


spans = st.tuples(starts, st.integers(0, 800)).map(lambda t: (t[0], t[0] + dt.timedelta(days=t[1])))


@given(spans, spans)
def test_dec4_overlap_is_symmetric_and_means_a_shared_day(x, y) -> None:
    shared = max(x[0], y[0]) <= min(x[1], y[1])
    xy = rules.check_no_overlap(x[0], x[1], [other(*y)])
    yx = rules.check_no_overlap(y[0], y[1], [other(*x)])
    assert bool(xy) == bool(yx) == shared
    assert all(e.rule == "DEC-4" for e in xy + yx)


def test_dec4_total_of_back_to_back_decisions_is_24_months_from_the_first_start() -> None:
    """A year, then a year: exactly 24 months in all; a day more is refused with the end to choose."""
    first = other(dt.date(2026, 12, 1), dt.date(2027, 11, 30))
    justified = "Continuing improves work readiness"
    assert rules.check_client_total(dt.date(2027, 12, 1), dt.date(2028, 11, 30), [first], justified) == []
    [e] = rules.check_client_total(dt.date(2027, 12, 1), dt.date(2028, 12, 1), [first], justified)
    assert (e.rule, e.field) == ("DEC-4", "body.period.end")
    assert "24 months" in e.message and "731 days" in e.message and "end on or before 2028-11-30" in e.message
    # A third decision after the full 24 months: nothing is left.
    second = other(dt.date(2027, 12, 1), dt.date(2028, 11, 30), "effica/B")
    [e] = rules.check_client_total(dt.date(2029, 1, 1), dt.date(2029, 3, 31), [first, second], justified)
    assert "no voucher-bought KTT left" in e.message


def test_dec4_a_break_between_decisions_does_not_use_the_allowance() -> None:
    """Counted in days: 24 months from 1.12.2026 are 731 days; the first year takes 365, so after a
    break of six months the second decision may last 366 days, not a day more."""
    first = other(dt.date(2026, 12, 1), dt.date(2027, 11, 30))
    justified = "Continuing improves work readiness"
    assert rules.check_client_total(dt.date(2028, 6, 1), dt.date(2029, 6, 1), [first], justified) == []
    [e] = rules.check_client_total(dt.date(2028, 6, 1), dt.date(2029, 6, 2), [first], justified)
    assert e.rule == "DEC-4" and "end on or before 2029-06-01" in e.message


def test_dec4_past_the_normal_year_in_all_needs_a_justification_but_not_for_the_first_year() -> None:
    first = other(dt.date(2026, 12, 1), dt.date(2027, 11, 30))
    [e] = rules.check_client_total(dt.date(2027, 12, 1), dt.date(2028, 2, 29), [first], None)
    assert (e.rule, e.field) == ("DEC-4", "body.extension_justification") and "12 months" in e.message
    assert rules.check_client_total(dt.date(2027, 12, 1), dt.date(2028, 2, 29), [first], "  ")[0].rule == "DEC-4"
    assert rules.check_client_total(dt.date(2027, 12, 1), dt.date(2028, 2, 29), [first], "Improves readiness") == []
    # The first decision amended while the next one exists is still within its own first year.
    later = other(dt.date(2027, 12, 1), dt.date(2028, 2, 29), "effica/B")
    assert rules.check_client_total(dt.date(2026, 12, 1), dt.date(2027, 11, 30), [later], None) == []
    # Two decisions that together stay within 12 months need none.
    short = other(dt.date(2026, 12, 1), dt.date(2027, 2, 28))
    assert rules.check_client_total(dt.date(2027, 3, 1), dt.date(2027, 11, 30), [short], None) == []
    assert rules.check_client_total(dt.date(2027, 3, 1), dt.date(2027, 12, 1), [short], None)[0].rule == "DEC-4"


@given(starts, st.lists(st.integers(0, 400), min_size=2, max_size=4), st.integers(0, 3), st.integers(-3, 3))
def test_dec4_total_of_a_chain_of_decisions_equals_the_month_rule_whichever_is_pushed_last(
        start: dt.date, lengths: list[int], pushed: int, slack: int) -> None:
    """Back-to-back decisions are within the total exactly when the last one ends at most 24 months
    (months_end) after the first started, whichever of them is the one being pushed."""
    cap_end = oracle_end(start, 24)
    lengths = lengths[:-1] + [max(0, (cap_end - start).days + slack - sum(lengths[:-1]) - len(lengths) + 1)]
    chain, s = [], start
    for n in lengths:
        chain.append((s, s + dt.timedelta(days=n)))
        s = chain[-1][1] + DAY
    pushed %= len(chain)
    others = [other(a, b, f"effica/{i}") for i, (a, b) in enumerate(chain) if i != pushed]
    verdict = rules.check_client_total(*chain[pushed], others, "Improves readiness")
    assert rules.check_client_periods(*chain[pushed], others, "Improves readiness") == verdict
    assert (verdict == []) == (chain[-1][1] <= cap_end), (chain, pushed)
    assert all(e.rule == "DEC-4" and e.field == "body.period.end" for e in verdict)


@given(starts, st.integers(0, 500), st.integers(0, 500), st.integers(1, 400))
def test_dec4_a_revoked_decision_left_out_never_turns_a_pass_into_a_refusal(start, a, gap, b) -> None:
    first = (start, start + dt.timedelta(days=a))
    second_start = first[1] + dt.timedelta(days=1 + gap)
    second = (second_start, second_start + dt.timedelta(days=b))
    third = (second[1] + DAY, second[1] + dt.timedelta(days=90))
    with_both = rules.check_client_total(*third, [other(*first), other(*second)], "Improves")
    without_second = rules.check_client_total(*third, [other(*first)], "Improves")
    assert not (with_both == [] and without_second != [])


def test_dec4_a_start_too_far_in_the_future_is_refused_not_a_crash() -> None:
    [e] = rules.check_period(dt.date(9998, 6, 1), dt.date(9999, 12, 31), "Improves")
    assert (e.rule, e.field) == ("DEC-4", "body.period.start")


# --- VOU-3 receipt date ---------------------------------------------------------------------------

def test_vou3_receipt_date_from_the_decision_day_to_today() -> None:
    decided, today = dt.date(2026, 11, 20), dt.date(2026, 11, 26)
    assert rules.check_received_on(None, decided, today) == []
    assert rules.check_received_on(decided, decided, today) == []
    assert rules.check_received_on(today, decided, today) == []
    [e] = rules.check_received_on(decided - DAY, decided, today)
    assert (e.rule, e.field) == ("VOU-3", "body.received_on") and "2026-11-20" in e.message
    [e] = rules.check_received_on(today + DAY, decided, today)
    assert (e.rule, e.field) == ("VOU-3", "body.received_on") and "future" in e.message
    assert rules.check_received_on(dt.date(9999, 12, 31), decided, today)[0].rule == "VOU-3"


def test_vou3_a_version_sent_without_the_receipt_date_hashes_as_before_it_existed() -> None:
    """An Effica replay of a version stored before received_on existed stays a replay (idempotent
    push): received_on left out, or equal to decided_on, hashes as the old content did."""
    import hashlib
    import json

    from ktt_decision.decisions.schemas import DecisionIn
    from ktt_decision.decisions.service import _content_hash
    from tests.helpers import decision_body

    body = decision_body()
    old_content = DecisionIn.model_validate(body).model_dump(mode="json", exclude={"received_on"})
    old_content["client"].pop("hetu")
    legacy = hashlib.sha256(json.dumps({"content": old_content, "hetu": "L"}, sort_keys=True,
                                       separators=(",", ":")).encode()).hexdigest()
    content, omitted = _content_hash(DecisionIn.model_validate(body), "L")
    assert content["received_on"] == "2026-11-25"  # the day that applies is stored
    _, explicit = _content_hash(DecisionIn.model_validate(body | {"received_on": "2026-11-25"}), "L")
    _, later = _content_hash(DecisionIn.model_validate(body | {"received_on": "2026-11-26"}), "L")
    assert omitted == explicit == legacy != later


def test_vou3_an_amendment_lists_a_changed_receipt_date() -> None:
    old = _content()  # stored before received_on existed: the decision day applies
    new = _content(version=2, received_on="2026-11-27")
    changes, personal = amendment_changes(old, new)
    assert {k: (v.old, v.new) for k, v in changes.items()} == {"received_on": ("2026-11-25", "2026-11-27")}
    assert personal == []
    assert amendment_changes(old, _content(version=2, received_on="2026-11-25")) == ({}, [])


# --- DEC-9: what is a refusal or an interruption ---------------------------------------------------

def test_dec9_voucher_states_that_mean_not_started() -> None:
    kind, reason = flags_rules.voucher_state_flag("delayed", "issued")
    assert kind == "not_started" and "VOU-3" in reason
    for previous in ("issued", "delayed"):
        kind, expired_reason = flags_rules.voucher_state_flag("expired", previous)
        assert kind == "not_started" and "expired unused" in expired_reason and expired_reason != reason
    assert flags_rules.voucher_state_flag("expired", "in_use") is None  # used, then ran out: no refusal
    for state in ("in_use", "cancelled", "refused", "revoked", "issued"):
        assert flags_rules.voucher_state_flag(state, "issued") is None  # VOU-4: a refused voucher is no refusal of KTT


def test_dec9_agreement_ends_that_are_interruptions() -> None:
    for kind in ("unsuitable", "mutual", "client_terminated"):
        assert flags_rules.agreement_end_flag(kind) == "interrupted"
    for kind in ("fixed_term", "provider_change", "provider_removed", "decision_revoked", "city_suspension",
                 "decision_shortened"):
        assert flags_rules.agreement_end_flag(kind) is None


def test_dec9_att7_unauthorised_absences_flag_illness_with_a_certificate_never() -> None:
    assert flags_rules.absence_flag("unauthorised", authorised=False) == "unauthorised_absence"
    assert flags_rules.absence_flag("sick_without_certificate", authorised=False) == "unauthorised_absence"  # ATT-3
    assert flags_rules.absence_flag("sent_away_influence", authorised=False) == "unauthorised_absence"
    assert flags_rules.absence_flag("sick_with_certificate", authorised=True) is None
    assert flags_rules.absence_flag("sick_with_certificate", authorised=False) is None  # illness never counts (ATT-7)
    for reason in ("doctor_visit", "child_illness", "job_interview", "other_authorised"):
        assert flags_rules.absence_flag(reason, authorised=True) is None


# --- VOU-9 representatives -------------------------------------------------------------------------

def test_vou9_representative_dates_and_contact_at_their_boundaries() -> None:
    today = dt.date(2026, 11, 26)

    def check(authorised_on=today, valid_until=None, phone="+358401111111", email=None):
        return representatives_rules.check_representative(authorised_on=authorised_on, valid_until=valid_until, phone=phone,
                                          email=email, today=today)

    assert check() == [] and check(valid_until=today) == [] and check(phone=None, email="m@example.fi") == []
    [e] = check(authorised_on=today + DAY)
    assert (e.rule, e.field) == ("VOU-9", "body.authorised_on")
    [e] = check(valid_until=today - DAY)
    assert (e.rule, e.field) == ("VOU-9", "body.valid_until")
    [e] = check(phone=" ", email=None)
    assert (e.rule, e.field) == ("VOU-9", "body.phone")


def test_vou9_a_representative_acts_from_authorisation_to_validity_end_and_not_from_withdrawal() -> None:
    on, until = dt.date(2026, 11, 1), dt.date(2026, 12, 31)

    def acts(today, withdrawn=None):
        return representatives_rules.representative_acts(authorised_on=on, valid_until=until, withdrawn_on=withdrawn, today=today)

    assert acts(on) and acts(until) and not acts(on - DAY) and not acts(until + DAY)
    assert acts(dt.date(2026, 11, 19), withdrawn=dt.date(2026, 11, 20))
    assert not acts(dt.date(2026, 11, 20), withdrawn=dt.date(2026, 11, 20))
    assert representatives_rules.name_key("  Maija   MEIKÄLÄINEN ") == representatives_rules.name_key("maija meikäläinen")


def test_data4_hetu_shaped_text_is_refused_where_it_would_be_published() -> None:
    [e] = rules.check_no_hetu({"body.source_id": "EFF-131052-308T", "body.plan.reference": "AS-2026-77"})
    assert (e.rule, e.field) == ("DATA-4", "body.source_id")
    assert rules.check_no_hetu({"body.source_id": "EFF-2026-000123", "body.name": None}) == []
