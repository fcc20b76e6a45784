"""Pure rules of the registry at their boundaries (PRV-1..PRV-13, VOU-1, VOU-6, VOU-7)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ktt_registry import rules
from ktt_registry import rules_oversight as oversight

TODAY = dt.date(2026, 11, 30)


# --- PRV-2, PRV-1 ---------------------------------------------------------------------------

@pytest.mark.parametrize("form", sorted(rules.ALLOWED_LEGAL_FORMS))
def test_prv_2_allowed_organisers_pass(form):
    assert rules.check_legal_form(form) == []


@pytest.mark.parametrize("form", sorted(rules.COMPANY_FORMS) + ["llc", ""])
def test_prv_2_companies_and_unknown_forms_are_refused(form):
    [error] = rules.check_legal_form(form)
    assert error.rule == "PRV-2" and "registered_association" in error.message
    assert rules.check_voucher_provider_form(form) == [error]  # the company refusal is the same for voucher providers


@pytest.mark.parametrize("form", ["registered_association", "registered_foundation", "registered_religious_community"])
def test_prv_2_registered_non_profits_may_be_voucher_providers(form):
    assert rules.check_voucher_provider_form(form) == []


@pytest.mark.parametrize("form", ["municipality", "joint_municipal_authority", "state_agency"])
def test_prv_2_public_organisers_provide_by_contract_not_by_voucher(form):
    """PRV-2 (amended): allowed organisers of KTT, but not as voucher providers."""
    assert rules.check_legal_form(form) == []
    [error] = rules.check_voucher_provider_form(form, field="legal_form")
    assert (error.rule, error.field) == ("PRV-2", "legal_form")
    assert "contract" in error.message and "not by voucher" in error.message and "private social service producer" in error.message
    assert form in rules.CONTRACT_ONLY_FORMS and rules.CONTRACT_ONLY_FORMS | rules.VOUCHER_PROVIDER_FORMS == rules.ALLOWED_LEGAL_FORMS


@pytest.mark.parametrize("value,canonical", [("0204819-8", "0204819-8"), ("02048198", "0204819-8"), (" 1234567-1 ", "1234567-1")])
def test_prv_1_business_id_check_digit_accepted(value, canonical):
    assert rules.check_business_id(value) == (canonical, [])


@pytest.mark.parametrize("value", ["0204819-7", "0204819-0", "1234567", "abcdefg-h", "12345678-9", ""])
def test_prv_1_business_id_with_wrong_check_digit_or_shape_refused(value):
    got, [error] = rules.check_business_id(value)
    assert got is None and error.rule == "PRV-1" and error.field == "body.business_id"


def test_iban_check_digits_and_format():
    assert rules.check_iban("FI21 1234 5600 0007 85") == ("FI2112345600000785", [])
    assert rules.check_iban("fi2112345600000785")[0] == "FI2112345600000785"
    for bad in ("FI21 1234 5600 0007 86", "FI22 1234 5600 0007 85", "FI21", "not an iban", "XX2112345600000785"):
        got, errors = rules.check_iban(bad)
        assert got is None and len(errors) == 1 and "IBAN" in errors[0].message


# --- PRV-1, PRV-11: the state machine ----------------------------------------------------------

STATES = ["applied", "approved", "suspended", "removed"]
ALLOWED = {("applied", "approved"), ("approved", "suspended"), ("suspended", "approved"), ("suspended", "removed")}


@pytest.mark.parametrize("current", STATES)
@pytest.mark.parametrize("target", STATES)
def test_transition_table_is_exactly_the_documented_machine(current, target):
    verdict = rules.transition(current, target)
    if current == target:
        assert verdict.allowed and verdict.no_change
    elif (current, target) in ALLOWED:
        assert verdict.allowed and not verdict.no_change
    else:
        assert not verdict.allowed and current in (verdict.reason or "")


def test_unknown_target_status_is_refused():
    assert not rules.transition("applied", "deleted").allowed


@pytest.mark.parametrize("current", STATES)
@pytest.mark.parametrize("target", STATES)
def test_prv_15_the_approved_list_changes_exactly_when_a_provider_enters_or_leaves_approved(current, target):
    expected = "added" if target == "approved" != current else "removed" if current == "approved" != target else None
    assert rules.approved_list_change(current, target) == expected


@pytest.mark.parametrize("value,cell", [("Työpaja ry", "Työpaja ry"), ("=1+1", "'=1+1"), ("+358", "'+358"), ("-x", "'-x"),
                                        ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), (None, ""), ("0204819-8", "0204819-8")])
def test_prv_15_csv_cells_never_start_a_formula(value, cell):
    assert oversight.csv_safe(value) == cell


def _ready_unit(**overrides) -> rules.UnitReadiness:
    values = dict(unit_id="u1", name="Keskusta", social_guidance=True, degree_level="bachelor", inspection_outcome="approved",
                  inspected_on=dt.date(2026, 11, 1))
    values.update(overrides)
    return rules.UnitReadiness(**values)


def _facts(**overrides) -> rules.ApprovalFacts:
    values = dict(registration_register="avi", registration_number="AVI-1", registration_date=dt.date(2025, 1, 1),
                  legal_form="registered_association", units_with_responsible_person=1, insurance_valid_from=dt.date(2026, 1, 1),
                  insurance_valid_until=dt.date(2026, 12, 31), priced_products=1, data_protection_officer_named=True,
                  social_guidance_arranged=True, staff_reported=True, units=(_ready_unit(),))
    values.update(overrides)
    return rules.ApprovalFacts(**values)


def test_approval_preconditions_met():
    assert rules.approval_preconditions(_facts(), TODAY) == []


def test_approval_preconditions_all_missing_are_listed_at_once():
    errors = rules.approval_preconditions(_facts(
        registration_number=" ", legal_form="limited_company", units_with_responsible_person=0, insurance_valid_from=None,
        insurance_valid_until=None, priced_products=0, data_protection_officer_named=False, social_guidance_arranged=False,
        staff_reported=False, units=()), TODAY)
    assert [(e.field, e.rule) for e in errors] == [
        ("registration", "PRV-1"), ("legal_form", "PRV-2"), ("units", "PRV-3"), ("insurance", "PRV-10"),
        ("products", "VOU-1"), ("data_protection_officer", "PRV-14"), ("social_guidance", "PRV-16"), ("staff", "PRV-16")]


def test_prv_16_and_prv_17_each_unit_is_checked_and_named():
    units = (_ready_unit(), _ready_unit(unit_id="u2", name="Itä", social_guidance=False, degree_level=None, inspection_outcome=None),
             _ready_unit(unit_id="u3", name="Länsi", inspection_outcome="rejected"))
    errors = rules.approval_preconditions(_facts(units=units), TODAY)
    assert [(e.field, e.rule) for e in errors] == [
        ("units.u2.responsible_person.degree", "PRV-16"), ("units.u2.social_guidance", "PRV-16"), ("units.u2.inspection", "PRV-17"),
        ("units.u3.inspection", "PRV-17")]
    assert "Itä" in errors[0].message and "not inspected" in errors[2].message and "rejected" in errors[3].message


@pytest.mark.parametrize("outcome,ok", [("approved", True), ("remarks", True), ("rejected", False), (None, False)])
def test_prv_17_the_latest_inspection_approves_with_or_without_remarks(outcome, ok):
    assert (oversight.unit_preconditions(_ready_unit(inspection_outcome=outcome)) == []) is ok


@pytest.mark.parametrize("level,ok", [("bachelor", True), ("master", True), ("licentiate", True), ("doctorate", True),
                                      ("vocational", False), (None, False)])
def test_prv_16_the_responsible_person_has_a_higher_education_degree(level, ok):
    assert (oversight.unit_preconditions(_ready_unit(degree_level=level)) == []) is ok


def test_prv_16_without_any_arrangement_social_guidance_is_named_once_for_the_provider():
    errors = rules.approval_preconditions(_facts(social_guidance_arranged=False, units=(_ready_unit(social_guidance=False),)), TODAY)
    assert [(e.field, e.rule) for e in errors] == [("social_guidance", "PRV-16")]


def test_prv_17_the_latest_inspection_decides_by_date_then_by_recording():
    t = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert oversight.latest_inspection([]) is None
    assert oversight.latest_inspection([(dt.date(2026, 11, 2), t, "rejected"), (dt.date(2026, 11, 1), t, "approved")]) == (
        dt.date(2026, 11, 2), "rejected")
    assert oversight.latest_inspection([(dt.date(2026, 11, 2), t + dt.timedelta(hours=1), "approved"),
                                    (dt.date(2026, 11, 2), t, "rejected")])[1] == "approved"


@pytest.mark.parametrize("inspected,outcome,remarks,statement,fields", [
    (TODAY, "approved", None, None, set()),
    (TODAY, "approved", None, TODAY, set()),
    (TODAY + dt.timedelta(days=1), "approved", None, None, {"body.inspected_on"}),
    (TODAY, "remarks", " ", None, {"body.remarks"}),
    (TODAY, "rejected", None, None, {"body.remarks"}),
    (TODAY, "rejected", "no emergency exit", None, set()),
    (TODAY, "approved", None, TODAY - dt.timedelta(days=1), {"body.avi_statement_on"}),
    (TODAY - dt.timedelta(days=3), "approved", None, TODAY + dt.timedelta(days=1), {"body.avi_statement_on"}),
])
def test_prv_17_an_inspection_record(inspected, outcome, remarks, statement, fields):
    errors = oversight.check_inspection(inspected, outcome, remarks, statement, TODAY)
    assert {e.field for e in errors} == fields and all(e.rule == "PRV-17" for e in errors)


@pytest.mark.parametrize("valid_from,valid_until,ok", [
    (dt.date(2026, 1, 1), TODAY, True),                             # last valid day
    (dt.date(2026, 1, 1), TODAY - dt.timedelta(days=1), False),     # expired yesterday
    (TODAY, dt.date(2027, 1, 1), True),                             # first valid day
    (TODAY + dt.timedelta(days=1), dt.date(2027, 1, 1), False),     # not yet valid
])
def test_prv_10_insurance_must_be_valid_today(valid_from, valid_until, ok):
    errors = rules.approval_preconditions(_facts(insurance_valid_from=valid_from, insurance_valid_until=valid_until), TODAY)
    assert (errors == []) is ok and all(e.rule == "PRV-10" for e in errors)


@pytest.mark.parametrize("form", ["municipality", "joint_municipal_authority", "state_agency"])
def test_prv_2_a_public_organiser_cannot_be_approved_as_a_voucher_provider(form):
    [error] = rules.approval_preconditions(_facts(legal_form=form), TODAY)
    assert (error.field, error.rule) == ("legal_form", "PRV-2") and "contract" in error.message


# --- PRV-10: insurance kept valid -----------------------------------------------------------------

def _policy(start: str, end: str) -> oversight.Policy:
    return oversight.Policy(dt.date.fromisoformat(start), dt.date.fromisoformat(end))


@pytest.mark.parametrize("on,insured", [("2025-12-31", False), ("2026-01-01", True), ("2026-12-31", True), ("2027-01-01", False)])
def test_prv_10_a_policy_covers_both_its_first_and_last_day(on, insured):
    assert oversight.insured_on([_policy("2026-01-01", "2026-12-31")], dt.date.fromisoformat(on)) is insured


@pytest.mark.parametrize("policies,on,end,lapse", [
    ([("2026-01-01", "2026-12-31")], "2026-06-01", "2026-12-31", None),
    ([("2026-01-01", "2026-12-31"), ("2027-01-01", "2027-12-31")], "2026-06-01", "2027-12-31", None),   # renewed the day after
    ([("2026-01-01", "2026-12-31"), ("2026-12-01", "2027-06-30")], "2026-06-01", "2027-06-30", None),   # overlapping renewal
    ([("2026-01-01", "2026-12-31"), ("2027-01-02", "2027-12-31")], "2026-06-01", "2026-12-31", None),   # a day's gap ends it
    ([("2026-01-01", "2026-12-31"), ("2027-01-02", "2027-12-31")], "2027-01-01", "2026-12-31", "2027-01-01"),
    ([("2026-01-01", "2026-12-31"), ("2027-02-01", "2027-12-31")], "2027-01-20", "2026-12-31", "2027-01-01"),
    ([("2027-02-01", "2027-12-31")], "2027-01-20", None, "2027-01-20"),                                    # only a future policy
    ([], "2027-01-20", None, "2027-01-20"),                                                                # none recorded
])
def test_prv_10_insurance_end_follows_gapless_renewals_and_a_lapse_starts_the_day_after(policies, on, end, lapse):
    periods, day = [_policy(a, b) for a, b in policies], dt.date.fromisoformat(on)
    assert oversight.insurance_end(periods, day) == (dt.date.fromisoformat(end) if end else None)
    if lapse is None:
        assert oversight.insured_on(periods, day)
    else:
        assert not oversight.insured_on(periods, day) and oversight.lapse_start(periods, day) == dt.date.fromisoformat(lapse)


def test_prv_10_a_policy_to_the_end_of_the_calendar_is_no_overflow():
    assert oversight.insurance_end([oversight.Policy(TODAY, dt.date.max)], TODAY) == dt.date.max


_periods = st.lists(st.tuples(st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)), st.integers(0, 400)), max_size=5).map(
    lambda xs: [oversight.Policy(a, a + dt.timedelta(days=n)) for a, n in xs])


@given(periods=_periods, on=st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)))
def test_prv_10_the_insurance_end_is_the_last_day_of_unbroken_cover(periods, on):
    end = oversight.insurance_end(periods, on)
    if oversight.insured_on(periods, on):
        assert end is not None and end >= on
        assert all(oversight.insured_on(periods, on + dt.timedelta(days=d)) for d in range((end - on).days + 1))
        assert not oversight.insured_on(periods, end + dt.timedelta(days=1))
    else:
        assert end is None or end < on
        start = oversight.lapse_start(periods, on)
        assert start <= on and all(not oversight.insured_on(periods, start + dt.timedelta(days=d)) for d in range((on - start).days + 1))


def test_prv_1_registration_dated_in_the_future_is_missing():
    [error] = rules.approval_preconditions(_facts(registration_date=TODAY + dt.timedelta(days=1)), TODAY)
    assert error.rule == "PRV-1"


# --- PRV-3, PRV-13: units ----------------------------------------------------------------------

def _unit(**overrides) -> rules.UnitFacts:
    values = dict(foli_reachable=True, languages=["fi", "sv"], rescue_check_on=TODAY, health_check_on=TODAY, handles_food=False,
                  food_check_on=None, snack=True, food_heating=True)
    values.update(overrides)
    return rules.UnitFacts(**values)


def test_unit_rules_pass_for_a_complete_unit():
    assert rules.check_unit(_unit()) == []
    assert rules.check_unit(_unit(handles_food=True, food_check_on=TODAY)) == []


def test_unit_rules_list_every_gap_with_its_rule():
    errors = rules.check_unit(_unit(foli_reachable=False, languages=["fi", "en"], rescue_check_on=None, health_check_on=None,
                                    handles_food=True, snack=False, food_heating=False))
    assert [(e.field.split(".", 1)[1], e.rule) for e in errors] == [
        ("foli_reachable", "PRV-3"), ("languages", "PRV-3"), ("premises.rescue_check_on", "PRV-3"),
        ("premises.health_check_on", "PRV-3"), ("premises.food_check_on", "PRV-3"), ("meals.snack", "PRV-13"),
        ("meals.food_heating", "PRV-13")]
    assert "sv" in errors[1].message and "fi" not in errors[1].message.split("add ")[1]


# --- PRV-6: capacity ---------------------------------------------------------------------------

@given(occupied=st.integers(0, 500), instructors=st.integers(0, 12))
def test_prv_6_occupancy_fits_exactly_when_within_25_per_instructor(occupied, instructors):
    errors = rules.check_occupancy(occupied, instructors)
    assert (errors == []) is (occupied <= 25 * instructors)
    assert all(e.rule == "PRV-6" for e in errors)


@pytest.mark.parametrize("instructors", [1, 2, 3])
def test_prv_6_the_25th_client_per_instructor_fits_and_the_26th_does_not(instructors):
    assert rules.check_occupancy(25 * instructors, instructors) == []
    [error] = rules.check_occupancy(25 * instructors + 1, instructors)
    assert error.rule == "PRV-6" and str(25 * instructors) in error.message


def test_prv_6_no_instructor_no_places_and_prv_8_unable_means_no_free_places():
    assert rules.capacity(0) == 0 and rules.check_occupancy(1, 0)[0].rule == "PRV-6"
    assert rules.free_places(2, 30, taking_clients=True) == 20
    assert rules.free_places(2, 30, taking_clients=False) == 0
    assert rules.free_places(1, 25, taking_clients=True) == 0


def _group(**overrides) -> rules.GroupFacts:
    values = dict(places=10, enrolled=0, starts_on=TODAY, ends_on=TODAY + dt.timedelta(days=90), lead_instructor_ok=True,
                  second_responsible_ok=True, distinct_responsibles=True, instructors_present=1)
    values.update(overrides)
    return rules.GroupFacts(**values)


@pytest.mark.parametrize("places,ok", [(7, False), (8, True), (15, True), (16, False)])
def test_prv_6_groups_have_8_to_15_places(places, ok):
    errors = rules.check_group(_group(places=places, instructors_present=2), large_group_over=10)
    assert (errors == []) is ok and all(e.rule == "PRV-6" for e in errors)


@pytest.mark.parametrize("large_over,places,present,ok", [
    (10, 10, 1, True), (10, 11, 1, False), (10, 11, 2, True), (12, 12, 1, True), (12, 13, 1, False), (10, 8, 0, False)])
def test_prv_6_a_large_group_has_two_instructors_present(large_over, places, present, ok):
    errors = rules.check_group(_group(places=places, instructors_present=present), large_group_over=large_over)
    assert (errors == []) is ok
    assert all(e.field == "body.instructors_present" for e in errors)


def test_prv_6_two_distinct_named_responsibles_and_prv_5_dates():
    fields = {e.field for e in rules.check_group(_group(lead_instructor_ok=False, distinct_responsibles=False, ends_on=TODAY,
                                                        enrolled=11), 10)}
    assert fields == {"body.lead_instructor_id", "body.second_responsible_id", "body.ends_on", "body.enrolled"}


# --- PRV-7: queues ----------------------------------------------------------------------------

def test_prv_7_wait_estimate_free_places_first_then_turnover():
    assert [rules.individual_wait_days(r, free=2, cap=25, turnover_days=365) for r in (1, 2, 3, 4, 5)] == [0, 0, 15, 30, 44]
    assert rules.individual_wait_days(1, free=0, cap=0, turnover_days=365) is None
    assert rules.individual_wait_days(1, free=0, cap=25, turnover_days=775) == 31
    assert rules.individual_wait_days(1, free=0, cap=25, turnover_days=750) == 30


@pytest.mark.parametrize("joined,latest", [
    (dt.date(2027, 1, 31), dt.date(2027, 2, 28)),    # no 31.2.: the month's last day, 28 days
    (dt.date(2028, 1, 31), dt.date(2028, 2, 29)),    # leap year
    (dt.date(2028, 1, 30), dt.date(2028, 2, 29)),
    (dt.date(2028, 2, 29), dt.date(2028, 3, 29)),    # from a leap day: same day next month
    (dt.date(2027, 3, 15), dt.date(2027, 4, 15)),    # 31 days
    (dt.date(2027, 3, 31), dt.date(2027, 4, 30)),
    (dt.date(2026, 12, 31), dt.date(2027, 1, 31)),   # over the year end, 31 days
    (dt.date(2026, 11, 30), dt.date(2026, 12, 30)),  # 30 days
])
def test_prv_7_one_month_of_waiting_is_a_calendar_month(joined, latest):
    assert rules.latest_queue_start(joined) == latest
    assert rules.may_join_queue(latest, joined) is True
    assert rules.may_join_queue(latest + dt.timedelta(days=1), joined) is False
    assert rules.may_join_queue(joined, joined) is True
    assert rules.may_join_queue(None, joined) is False  # no estimate: nobody joins


def test_prv_7_a_fixed_30_days_is_not_the_limit():
    """Joining on 31.1.: a start on 1.3. (29 days) is over a month; joining 15.3.: 15.4. (31 days) is not."""
    assert rules.may_join_queue(dt.date(2027, 3, 1), dt.date(2027, 1, 31)) is False
    assert rules.may_join_queue(dt.date(2027, 4, 15), dt.date(2027, 3, 15)) is True


@given(joined=st.dates(dt.date(2000, 1, 1), dt.date(2100, 11, 30)), later=st.integers(0, 400))
def test_prv_7_the_calendar_month_limit_is_next_months_same_or_last_day(joined, later):
    import calendar

    latest = rules.latest_queue_start(joined)
    next_month = (joined.year + joined.month // 12, joined.month % 12 + 1)
    assert (latest.year, latest.month) == next_month
    assert latest.day == min(joined.day, calendar.monthrange(*next_month)[1])
    assert 28 <= (latest - joined).days <= 31
    # A later join never has an earlier limit, and the verdict is exactly "on or before the limit".
    assert rules.latest_queue_start(joined + dt.timedelta(days=later)) >= latest
    start = joined + dt.timedelta(days=later % 40)
    assert rules.may_join_queue(start, joined) is (start <= latest)


@given(rank=st.integers(1, 200), free=st.integers(0, 100), cap=st.integers(1, 100), turnover=st.integers(1, 800))
def test_prv_7_waits_never_shrink_further_back_in_the_queue(rank, free, cap, turnover):
    free = free % (cap + 1)  # free places never exceed the capacity
    a = rules.individual_wait_days(rank, free, cap, turnover)
    b = rules.individual_wait_days(rank + 1, free, cap, turnover)
    assert a is not None and b is not None and 0 <= a <= b
    assert (a == 0) is (rank <= free)


def test_prv_7_group_queue_fills_announced_groups_in_start_order():
    groups = [rules.OpenGroup(TODAY + dt.timedelta(days=40), 3), rules.OpenGroup(TODAY + dt.timedelta(days=10), 2)]
    assert [rules.group_start(r, groups) for r in (1, 2, 3, 5, 6)] == [
        TODAY + dt.timedelta(days=10), TODAY + dt.timedelta(days=10), TODAY + dt.timedelta(days=40),
        TODAY + dt.timedelta(days=40), None]
    assert rules.group_start(1, []) is None


# --- QUA-2: further quality measures -----------------------------------------------------------------

@pytest.mark.parametrize("kind,on,year,summary,participants,fields", [
    ("spot_check", TODAY, None, "no instructor present", None, set()),
    ("spot_check", TODAY, None, " ", None, {"body.summary"}),
    ("visit", TODAY + dt.timedelta(days=1), None, "fine", None, {"body.occurred_on"}),
    ("client_panel", TODAY, None, "meals", 7, set()),
    ("visit", TODAY, None, "fine", 7, {"body.participants"}),
    ("self_monitoring_plan", TODAY, None, None, None, set()),
    ("self_monitoring_plan", TODAY, 2025, None, None, {"body.year"}),
    ("annual_report", TODAY, 2026, None, None, set()),        # the year has begun: a report so far is accepted
    ("annual_report", TODAY, 2027, None, None, {"body.year"}),
    ("annual_report", TODAY, None, None, None, {"body.year"}),
])
def test_qua_2_quality_records(kind, on, year, summary, participants, fields):
    errors = oversight.check_quality_record(kind, on, year, summary, participants, TODAY)
    assert {e.field for e in errors} == fields and all(e.rule == "QUA-2" for e in errors)


# --- VOU-1, VOU-6, VOU-7: values -----------------------------------------------------------------

@pytest.mark.parametrize("amount,cents", [(Decimal("45"), 4500), (Decimal("45.5"), 4550), (Decimal("0.01"), 1), (Decimal("38.50"), 3850)])
def test_money_is_integer_cents(amount, cents):
    assert rules.to_cents(amount, "x") == (cents, [])


@pytest.mark.parametrize("amount", [Decimal("45.555"), Decimal("0"), Decimal("-1")])
def test_bad_amounts_refused(amount):
    assert rules.to_cents(amount, "x")[0] is None


def test_values_required_by_product_kind():
    assert rules.check_values_for_kind("individual", 4500, 3850, None) == []
    assert rules.check_values_for_kind("intensive_coaching", None, None, 6000) == []
    assert {e.rule for e in rules.check_values_for_kind("group", 4500, None, 100)} == {"VOU-6", "VOU-7"}
    assert {e.rule for e in rules.check_values_for_kind("intensive_coaching", 4500, None, None)} == {"VOU-7"}


@given(effs=st.lists(st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)), min_size=1, max_size=8),
       on=st.dates(dt.date(2025, 6, 1), dt.date(2029, 6, 1)))
def test_value_in_force_is_the_newest_version_already_effective(effs, on):
    versions = list(enumerate(effs, start=1))
    got = rules.value_in_force(versions, on)
    effective = [v for v, eff in versions if eff <= on]
    assert got == (max(effective) if effective else None)
