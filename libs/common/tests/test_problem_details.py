"""Pure helpers behind issue 17 items 1 and 5: JSON error positions, status-phrase titles, readable
unique operationIds, the configurable problem base."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ktt_common.errors import NotFound, json_position, status_phrase
from ktt_common.openapi import camel_operation_id, unique_operation_ids
from ktt_common.settings import Settings


@given(st.text(alphabet=st.sampled_from("ab{}\n\" 1"), max_size=60), st.data())
def test_json_position_points_at_the_character(text, data):
    pos = data.draw(st.integers(0, len(text)))
    line, column = json_position(text, pos)
    lines = text.split("\n")
    assert 1 <= line <= len(lines) and 1 <= column <= len(lines[line - 1]) + 1
    offset = sum(len(x) + 1 for x in lines[: line - 1]) + column - 1
    assert offset == pos


@pytest.mark.parametrize("doc", ['{"a": }', '{\n  "a": 1,\n  "b": tru\n}', "[1, 2", '{"a": 1}}'])
def test_json_position_agrees_with_the_json_parser(doc):
    with pytest.raises(json.JSONDecodeError) as err:
        json.loads(doc)
    assert json_position(doc, err.value.pos) == (err.value.lineno, err.value.colno)
    assert json_position(doc.encode(), err.value.pos) == (err.value.lineno, err.value.colno)


def test_status_phrases():
    assert status_phrase(404) == "Not Found"
    assert status_phrase(405) == "Method Not Allowed"
    assert status_phrase(503) == "Service Unavailable"
    assert status_phrase(799) == "HTTP error"


@pytest.mark.parametrize("name,expected", [("push_decision", "pushDecision"), ("healthz", "healthz"),
                                           ("pain001", "pain001"), ("set_AVI_statement", "setAVIStatement"), ("__", "operation")])
def test_camel_operation_ids(name, expected):
    assert camel_operation_id(name) == expected


def test_operation_ids_are_unique_in_route_order():
    ids = unique_operation_ids([("/a", "post", "record"), ("/b", "post", "record"), ("/c", "get", "record2"),
                                ("/d", "get", "record")])
    assert ids == {("/a", "post"): "record", ("/b", "post"): "record3", ("/c", "get"): "record2", ("/d", "get"): "record4"}
    assert len(set(ids.values())) == 4


def test_problem_base_uri_is_a_setting():
    s = Settings(service="decision", environment="test", problem_base_uri="https://example.org/p")
    assert s.problem_base_uri == "https://example.org/p/"
    assert Settings(service="decision", environment="test").problem_base_uri == "https://ktt.turku.example/problems/"
    assert NotFound("gone").problem("/x", s.problem_base_uri)["type"] == "https://example.org/p/not-found"
    assert Settings(service="decision", environment="test").public_url == "http://127.0.0.1:8001"


def test_refuse_raises_one_violation_listing_every_broken_rule() -> None:
    from ktt_common.errors import FieldError, RuleViolation, refuse

    refuse([])  # nothing to refuse: no exception
    one = [FieldError(field="body.period.end", message="after the start", rule="DEC-4"),
           FieldError(field="body.period.start", message="not in the past (DEC-4)", rule="DEC-4")]
    with pytest.raises(RuleViolation) as caught:
        refuse(one, "the decision is refused")
    assert caught.value.rule == "DEC-4" and caught.value.errors == one
    assert caught.value.detail == ("the decision is refused: body.period.end: after the start (DEC-4); "
                                   "body.period.start: not in the past (DEC-4)")
    mixed = [*one, FieldError(field="body.hours", message="too many", rule="VOU-7")]
    with pytest.raises(RuleViolation) as caught:
        refuse(mixed, status_hint="x")
    assert caught.value.rule is None and len(caught.value.errors) == 3
    assert caught.value.problem()["status_hint"] == "x"
