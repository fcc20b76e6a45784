"""ktt_common.bounds: the shared request types refuse exactly what lies outside their range."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from ktt_common.bounds import MAX_DATE, MIN_DATE, BoundedDate, BoundedDateTime, DateRange, Email, StrictBool, Version

DATE = TypeAdapter(BoundedDate)
RULED = TypeAdapter(Annotated[dt.date, DateRange("DEC-7")])


@given(st.dates())
def test_a_bounded_date_is_accepted_exactly_within_the_range(day: dt.date) -> None:
    inside = MIN_DATE <= day <= MAX_DATE
    try:
        assert DATE.validate_python(day.isoformat()) == day
        assert inside
    except ValidationError as exc:
        assert not inside
        assert exc.errors()[0]["type"] == "date_out_of_range"


def test_a_ruled_date_cites_its_rule_and_datetimes_are_bounded_too() -> None:
    with pytest.raises(ValidationError) as info:
        RULED.validate_python("9999-12-31")
    error = info.value.errors()[0]
    assert error["ctx"]["rule"] == "DEC-7" and "(DEC-7)" in error["msg"]
    with pytest.raises(ValidationError):
        TypeAdapter(BoundedDateTime).validate_python("0001-01-01T00:00:00Z")
    assert TypeAdapter(BoundedDateTime).validate_python("2026-11-30T12:00:00Z").year == 2026


@pytest.mark.parametrize("value", [True, "1", 1.0, 0, 2**31, 2**63])
def test_a_version_is_a_json_integer_within_32_bits(value: object) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Version).validate_python(value)
    assert TypeAdapter(Version).validate_python(2**31 - 1) == 2**31 - 1


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "1"])
def test_a_strict_bool_is_only_true_or_false(value: object) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(StrictBool).validate_python(value)


@pytest.mark.parametrize("value", ["yes", "a@b", "@example.fi", "x@y.invalid", "a b@example.fi"])
def test_an_email_is_validated(value: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Email).validate_python(value)
    assert TypeAdapter(Email).validate_python("matti@example.fi") == "matti@example.fi"
