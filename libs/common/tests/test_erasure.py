"""The pure parts of erasing a client's copies (DATA-2): what becomes the marker, what stays."""

from __future__ import annotations

from ktt_common.erasure import ERASED, erased_text, scrub


def test_a_text_given_becomes_the_marker_and_one_never_given_stays_none():
    assert (erased_text("Matti was ill"), erased_text(None), erased_text("")) == (ERASED, None, ERASED)


def test_scrub_neutralises_the_named_keys_and_keeps_numbers_and_the_rest():
    content = {"goals": "Matti learns", "tasks": ["woodwork"], "client_contact": {"phone": "+358401"},
               "instructor": {"name": "Olli"}, "hours": 5, "terms": {"a": True}}
    assert scrub(content, ("goals", "tasks", "client_contact", "hours")) == {
        "goals": ERASED, "tasks": [], "client_contact": None, "instructor": {"name": "Olli"}, "hours": 5,
        "terms": {"a": True}}
    assert scrub(None, ("goals",)) is None


def test_scrub_reaches_into_lists_of_mappings_and_everything_without_keys():
    history = [{"state": "returned", "comment": "Matti forgot", "at": "2027-01-02"}, {"state": "accepted"}]
    assert scrub(history, ("comment",)) == [{"state": "returned", "comment": ERASED, "at": "2027-01-02"},
                                            {"state": "accepted"}]
    report = {"summary": "Matti did well", "days": 12, "items": [{"text": "punctual", "score": 4}], "ok": True}
    assert scrub(report) == {"summary": ERASED, "days": 12, "items": [{"text": ERASED, "score": 4}], "ok": True}
    assert scrub(scrub(report)) == scrub(report)  # idempotent
