"""The AGR-7 / AGR-17 completeness check as a pure rule (``agreements/rules.py``): a body in, every
missing item out at once, each naming its field and rule; no database, no service."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ktt_voucher.agreements.rules import missing_items
from ktt_voucher.agreements.schemas import AgreementDraftIn, TermsIn

ALL_TERMS = {name: True for name in TermsIn.model_fields}


def complete(**overrides: object) -> AgreementDraftIn:
    body: dict[str, object] = {
        "voucher_number": "KTT-0000-0000-0", "unit_id": uuid.uuid4(), "product_id": uuid.uuid4(),
        "start_date": dt.date(2026, 1, 5), "end_date": dt.date(2026, 6, 30),
        "schedule": [{"weekday": "mon", "start": dt.time(10), "end": dt.time(14)}],
        "tasks": ["kitchen work"], "goals": "daily rhythm",
        "instructor": {"name": "Ohjaaja", "phone": "040 1234567"},
        "client_contact": {"email": "asiakas@example.fi"},
        "case_worker": {"name": "Sosiaalityöntekijä", "email": "sos@example.fi"},
        "individual_coaching": "1 h a week", "parallel_services": [], "work_cards": [], "terms": ALL_TERMS,
    }
    body.update(overrides)
    return AgreementDraftIn.model_validate(body)


def test_agr7_a_complete_agreement_misses_nothing() -> None:
    assert missing_items(complete(), "work_activity") == []


@pytest.mark.parametrize(("overrides", "field", "rule"), [
    ({"voucher_number": None}, "body.voucher_number", "AGR-7"),
    ({"unit_id": None}, "body.unit_id", "AGR-7"),
    ({"product_id": None}, "body.product_id", "AGR-7"),
    ({"start_date": None}, "body.start_date", "AGR-7"),
    ({"end_date": None}, "body.end_date", "AGR-7"),
    ({"schedule": []}, "body.schedule", "AGR-7"),
    ({"tasks": ["  "]}, "body.tasks", "AGR-7"),
    ({"goals": None}, "body.goals", "AGR-7"),
    ({"instructor": {"phone": "040 1234567"}}, "body.instructor.name", "AGR-7"),
    ({"instructor": {"name": "Ohjaaja"}}, "body.instructor.phone", "AGR-7"),
    ({"client_contact": {}}, "body.client_contact", "AGR-7"),
    ({"case_worker": {"email": "sos@example.fi"}}, "body.case_worker.name", "AGR-7"),
    ({"case_worker": {"name": "Sosiaalityöntekijä"}}, "body.case_worker.phone", "AGR-7"),
    ({"individual_coaching": None}, "body.individual_coaching", "AGR-17"),
    ({"parallel_services": None}, "body.parallel_services", "AGR-17"),
    ({"work_cards": None}, "body.work_cards", "AGR-17"),
    ({"terms": {**ALL_TERMS, "no_participation_under_influence": False}},
     "body.terms.no_participation_under_influence", "AGR-7"),
    ({"terms": {**ALL_TERMS, "fire_safety_induction": False}}, "body.terms.fire_safety_induction", "AGR-17"),
])
def test_agr7_each_missing_item_is_named_with_its_field_and_rule(overrides: dict[str, object], field: str,
                                                                  rule: str) -> None:
    errors = missing_items(complete(**overrides), "work_activity")
    assert [(e.field, e.rule) for e in errors] == [(field, rule)]
    assert errors[0].message.startswith("missing: ")


def test_agr7_vou8_an_assessment_period_needs_its_justification_and_content() -> None:
    errors = missing_items(complete(), "assessment_period")
    assert [(e.field, e.rule) for e in errors] == [("body.assessment_justification", "AGR-7"),
                                                   ("body.assessment_content", "AGR-7")]
    assert missing_items(complete(assessment_justification="why", assessment_content="what"), "assessment_period") == []


def test_agr7_an_empty_draft_lists_every_item_at_once() -> None:
    errors = missing_items(AgreementDraftIn.model_validate({}), None)
    fields = [e.field for e in errors]
    assert len(fields) == len(set(fields)) == 13 + 3 + len(TermsIn.model_fields)
    assert {e.rule for e in errors} == {"AGR-7", "AGR-17"}


@given(dropped=st.sets(st.sampled_from(["voucher_number", "unit_id", "product_id", "start_date", "end_date", "goals",
                                        "individual_coaching"])))
def test_agr7_the_missing_fields_are_exactly_the_ones_left_out(dropped: set[str]) -> None:
    errors = missing_items(complete(**{name: None for name in dropped}), "work_activity")
    assert {e.field for e in errors} == {f"body.{name}" for name in dropped}
