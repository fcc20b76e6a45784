"""PRV-6 places whatever order agreement events arrive in (issue 12 item 3): rules.place_effect,
exhaustively, and by simulation over every order of a signed and an ended event with repeats."""

from __future__ import annotations

import itertools

import pytest

from ktt_registry.rules import place_effect


@pytest.mark.parametrize("form", ["individual", "group"])
def test_place_effect_table(form):
    table = {
        ("signed", False, False): "take_place" if form == "individual" else "record_only",
        ("signed", False, True): "record_only",   # the end came first: no phantom place
        ("signed", True, False): "nothing",
        ("signed", True, True): "nothing",
        ("ended", False, False): "remember_end",
        ("ended", True, False): "free_place" if form == "individual" else "record_only",
        ("ended", False, True): "nothing",
        ("ended", True, True): "nothing",
    }
    for (event, signed_seen, end_seen), expected in table.items():
        assert place_effect(event, signed_seen, end_seen, form) == expected, (event, signed_seen, end_seen)


def _occupied_after(events: tuple[str, ...], form: str) -> int:
    occupied, signed_seen, end_seen = 0, False, False
    for event in events:
        effect = place_effect(event, signed_seen, end_seen, form)  # type: ignore[arg-type]
        occupied += {"take_place": 1, "free_place": -1}.get(effect, 0)
        assert occupied >= 0
        signed_seen = signed_seen or event == "signed"
        end_seen = end_seen or event == "ended"
    return occupied


@pytest.mark.parametrize("form", ["individual", "group"])
def test_any_order_and_repeats_of_signed_and_ended_leave_no_place_taken(form):
    for n in range(2, 6):
        for events in itertools.product(("signed", "ended"), repeat=n):
            if "signed" in events and "ended" in events:
                assert _occupied_after(events, form) == 0, events


def test_a_signed_agreement_without_its_end_holds_one_individual_place():
    assert _occupied_after(("signed", "signed", "signed"), "individual") == 1
    assert _occupied_after(("signed",), "group") == 0
