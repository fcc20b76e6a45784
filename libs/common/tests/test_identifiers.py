"""ktt_common.identifiers: hetu and Y-tunnus validation, and the hetu mask every log line goes through."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ktt_common.identifiers import (
    HETU_MASK,
    IdentifierError,
    contains_hetu,
    mask_hetu,
    validate_business_id,
    validate_hetu,
)

CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
CENTURY_SIGNS = {1800: "+", 1900: "-UVWXY", 2000: "ABCDEF"}


def make_hetu(day: dt.date, sign: str, individual: int) -> str:
    """A hetu with a correct control character (the rule python-stdnum checks)."""
    digits = day.strftime("%d%m%y") + f"{individual:03d}"
    return f"{day:%d%m%y}{sign}{individual:03d}{CHECK_CHARS[int(digits) % 31]}"


def test_make_hetu_matches_a_known_code() -> None:
    assert make_hetu(dt.date(1952, 10, 13), "-", 308) == "131052-308T"


# --- validate_hetu ---------------------------------------------------------------------------

def test_valid_hetu_is_accepted() -> None:
    assert validate_hetu("131052-308T") == "131052-308T"


def test_2023_century_sign_is_accepted_and_kept() -> None:
    new_style = validate_hetu("131052W308T")  # same digits, a 1900s sign introduced in 2023
    assert new_style == "131052W308T"
    assert new_style != validate_hetu("131052-308T")


@pytest.mark.parametrize("sign", list("-UVWXY"))
def test_every_1900s_century_sign_is_accepted(sign: str) -> None:
    code = f"131052{sign}308T"
    assert validate_hetu(code) == code


@pytest.mark.parametrize("sign", list("ABCDEF"))
def test_every_2000s_century_sign_is_accepted(sign: str) -> None:
    code = make_hetu(dt.date(2013, 10, 5), sign, 123)
    assert validate_hetu(code) == code


def test_hetu_is_stripped_and_upper_cased() -> None:
    assert validate_hetu("  131052-308t ") == "131052-308T"


def test_bad_control_character_is_refused_with_a_message_about_it() -> None:
    with pytest.raises(IdentifierError) as info:
        validate_hetu("131052-308U")
    assert "control character" in str(info.value)
    assert info.value.field == "hetu"
    assert isinstance(info.value, ValueError)


def test_field_name_is_carried_in_the_error() -> None:
    with pytest.raises(IdentifierError) as info:
        validate_hetu("131052-308U", field="body.client.hetu")
    assert info.value.field == "body.client.hetu"


@pytest.mark.parametrize(
    "value",
    ["", "131052308T", "131052-308", "131052-3080T", "1310522-308T", "131052_308T", "abcdef-ghiJ", "131052-30 8T"],
)
def test_bad_formats_are_refused(value: str) -> None:
    with pytest.raises(IdentifierError) as info:
        validate_hetu(value)
    assert str(info.value)  # says something
    assert "control character" not in str(info.value)


def test_impossible_date_is_refused() -> None:
    # 31 February, with the control character the digits call for
    code = "310252-308" + CHECK_CHARS[int("310252308") % 31]
    with pytest.raises(IdentifierError, match="impossible date"):
        validate_hetu(code)


@pytest.mark.parametrize("value", [None, 131052308, b"131052-308T"])
def test_non_string_is_refused(value: object) -> None:
    with pytest.raises(IdentifierError, match="must be a string"):
        validate_hetu(value)  # type: ignore[arg-type]


def test_temporary_individual_number_refused_unless_allowed() -> None:
    temporary = make_hetu(dt.date(1952, 10, 13), "-", 950)
    assert temporary == "131052-950H"
    with pytest.raises(IdentifierError, match="temporary"):
        validate_hetu(temporary)
    assert validate_hetu(temporary, allow_temporary=True) == temporary


@pytest.mark.parametrize("individual", [900, 999])
def test_temporary_range_bounds(individual: int) -> None:
    code = make_hetu(dt.date(1990, 1, 1), "-", individual)
    with pytest.raises(IdentifierError, match="temporary"):
        validate_hetu(code)
    assert validate_hetu(code, allow_temporary=True) == code


def test_individual_899_is_not_temporary() -> None:
    code = make_hetu(dt.date(1990, 1, 1), "-", 899)
    assert validate_hetu(code) == code


def test_temporary_with_bad_control_character_is_a_checksum_error() -> None:
    good = make_hetu(dt.date(1952, 10, 13), "-", 950)
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")
    with pytest.raises(IdentifierError, match="control character"):
        validate_hetu(bad, allow_temporary=True)


# --- validate_business_id --------------------------------------------------------------------

def test_valid_business_id_is_accepted_in_canonical_form() -> None:
    assert validate_business_id("2077474-0") == "2077474-0"
    assert validate_business_id("20774740") == "2077474-0"


def test_business_id_with_wrong_check_digit_is_refused() -> None:
    with pytest.raises(IdentifierError) as info:
        validate_business_id("2077474-1")
    assert "check digit" in str(info.value)
    assert info.value.field == "business_id"


@pytest.mark.parametrize("value", ["", "207747-0", "2077474-", "abcdefg-h", "20774740-0"])
def test_business_id_with_bad_format_is_refused(value: str) -> None:
    with pytest.raises(IdentifierError, match="1234567-8"):
        validate_business_id(value)


# --- mask_hetu / contains_hetu ---------------------------------------------------------------

ALL_SIGNS = "+-ABCDEFUVWXY"


@pytest.mark.parametrize("sign", list(ALL_SIGNS))
def test_mask_hetu_masks_every_century_sign(sign: str) -> None:
    code = f"010203{sign}123A"
    text = f"client {code} applied"
    assert mask_hetu(text) == f"client {HETU_MASK} applied"
    assert contains_hetu(text)


def test_mask_hetu_masks_lowercase_control_character() -> None:
    assert mask_hetu("131052-308t") == HETU_MASK
    assert contains_hetu("hetu=131052-308t")


def test_mask_hetu_masks_whatever_the_checksum() -> None:
    assert mask_hetu("131052-308U") == HETU_MASK  # shape is enough: a typo is still personal data


def test_mask_hetu_masks_inside_json_strings() -> None:
    text = json.dumps({"hetu": "131052-308T", "people": ["131052A308T", "010101+123X"], "note": "x 131052W308T y"})
    masked = mask_hetu(text)
    assert not contains_hetu(masked)
    assert masked.count(HETU_MASK) == 4
    assert json.loads(masked)["hetu"] == HETU_MASK  # still valid JSON


def test_mask_hetu_masks_many_and_in_punctuation() -> None:
    text = "(131052-308T),131052A308T;'131052Y308T'/131052+308T\n131052-308T."
    assert mask_hetu(text) == f"({HETU_MASK}),{HETU_MASK};'{HETU_MASK}'/{HETU_MASK}\n{HETU_MASK}."


@pytest.mark.parametrize(
    "text",
    [
        "123e4567-e89b-12d3-a456-426614174000",
        "123E4567-E89B-12D3-A456-426614174000",
        "2026-12-01",
        "2026-11-30T22:30:00Z",
        "2026-11-30T22:30:00+02:00",
        "2026-11-30T22:30:00.123456+00:00",
        "2026-11-30T22:30:00.123456-05:00",
        "+358401234567",
        "0401234567",
        "KTT-7K3M-9QX2-D",
        "2077474-0",
        "FI2112345600000785",
        "version 1.2.3-rc1",
    ],
)
def test_mask_hetu_leaves_other_identifiers_alone(text: str) -> None:
    assert mask_hetu(text) == text
    assert not contains_hetu(text)


def test_hetu_glued_to_letters_or_digits_is_not_a_hetu() -> None:
    for text in ("X131052-308T", "131052-308TX", "9131052-308T", "131052-308T9"):
        assert mask_hetu(text) == text


@given(st.uuids())
def test_uuids_are_never_masked(value: uuid.UUID) -> None:
    for text in (str(value), str(value).upper(), f"/vouchers/{value}"):
        assert mask_hetu(text) == text
        assert not contains_hetu(text)


@given(st.datetimes(min_value=dt.datetime(1800, 1, 1), max_value=dt.datetime(2099, 12, 31), timezones=st.timezones()))
def test_iso_timestamps_are_never_masked(when: dt.datetime) -> None:
    for text in (when.isoformat(), when.date().isoformat(), when.isoformat(timespec="seconds")):
        assert mask_hetu(text) == text


@st.composite
def valid_hetus(draw: st.DrawFn) -> str:
    day = draw(st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2099, 12, 31)))
    sign = draw(st.sampled_from(CENTURY_SIGNS[day.year // 100 * 100]))
    individual = draw(st.integers(min_value=2, max_value=899))
    return make_hetu(day, sign, individual)


@given(valid_hetus(), st.sampled_from(["{}", "hetu={}", "'{}'", '{{"hetu": "{}"}}', "a {} b", "{}\n{}"]))
def test_any_valid_hetu_is_masked_and_found(hetu: str, template: str) -> None:
    assert validate_hetu(hetu) == hetu  # the generator makes real codes
    text = template.format(hetu, hetu)
    assert contains_hetu(text)
    masked = mask_hetu(text)
    assert hetu not in masked
    assert HETU_MASK in masked
    assert not contains_hetu(masked)


@given(valid_hetus())
def test_valid_hetu_with_lowercase_control_character_is_masked(hetu: str) -> None:
    lowered = hetu[:-1] + hetu[-1].lower()
    assert mask_hetu(lowered) == HETU_MASK
