"""The one-pass reading of a JSON batch (parsing._fast_json, for speed) never answers otherwise
than the careful reading that names every problem (ATT-1: a malformed batch is refused whole):
whatever it accepts, the careful way accepts as the same entries; whatever it declines is read
the careful way."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ktt_common.errors import DomainError

from ktt_attendance.log import parsing

AGREEMENTS = ["0b7e2b7e-0000-4000-8000-000000000001", "0B7E2B7E-0000-4000-8000-000000000001 ",
              "0b7e2b7e000040008000000000000002", "not-a-uuid", 7]
VALUES = {
    "agreement_id": st.sampled_from(AGREEMENTS),
    "date": st.sampled_from(["2027-03-01", " 2027-03-02", "2027-02-30", "2027-03-01T00:00:00", 20270301, None]),
    "kind": st.sampled_from(["present", "absent", "not_organised", "holiday"]),
    "hours": st.sampled_from([5, 4.5, "6", 0, 25, None, True]),
    "start": st.sampled_from(["09:00", "9:00", "25:00", None]),
    "end": st.sampled_from(["14:00", "08:00", None]),
    "tasks": st.sampled_from(["woodwork", "  cleaning ", "", None, 3]),
    "reason": st.sampled_from(["unauthorised", "sick_with_certificate", "flu", None]),
    "certificate": st.sampled_from([True, False, "yes", None]),
    "correction": st.sampled_from([True, False, "true"]),
    "colour": st.sampled_from(["blue"]),
}
entry = st.fixed_dictionaries({"agreement_id": VALUES["agreement_id"], "date": VALUES["date"], "kind": VALUES["kind"]},
                              optional={k: v for k, v in VALUES.items() if k not in ("agreement_id", "date", "kind")})


def _careful(body: bytes, limit: int) -> list | type:
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or set(data) != {"entries"} or not isinstance(data["entries"], list):
            return DomainError
        return parsing._validate(data["entries"], limit)
    except DomainError:
        return DomainError


@settings(max_examples=300, deadline=None)
@given(entries=st.lists(entry, max_size=6), limit=st.integers(min_value=1, max_value=6),
       extra=st.sampled_from([None, {"note": "x"}]))
def test_one_pass_reading_accepts_only_what_the_careful_one_accepts_and_as_the_same_entries(entries, limit, extra):
    body = json.dumps({"entries": entries, **(extra or {})}).encode()
    fast = parsing._fast_json(body, limit)
    careful = _careful(body, limit)
    if fast is not None:
        assert careful == fast
    # What the endpoint answers is the same either way.
    try:
        answered = parsing.parse_json(body, limit)
    except DomainError:
        answered = DomainError
    assert answered == careful


@pytest.mark.parametrize("body", [b"", b"[]", b'{"entries": {}}', b"\xff\xfe", b'{"entries": [], "more": 1}'])
def test_bodies_that_are_no_batch_are_left_to_the_careful_reading(body):
    assert parsing._fast_json(body, 5000) is None
    with pytest.raises(DomainError):
        parsing.parse_json(body, 5000)


def test_two_entries_for_one_day_are_left_to_the_careful_reading_which_names_them():
    one = {"agreement_id": AGREEMENTS[0], "date": "2027-03-01", "kind": "absent", "reason": "unauthorised"}
    body = json.dumps({"entries": [one, {**one, "agreement_id": AGREEMENTS[1]}]}).encode()
    assert parsing._fast_json(body, 5000) is None
    with pytest.raises(DomainError) as caught:
        parsing.parse_json(body, 5000)
    assert "entries.1.date" in json.dumps([e.field for e in caught.value.errors])
