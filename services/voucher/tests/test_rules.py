"""Pure voucher rules: numbers (VOU-1, VOU-5), states, deadlines (VOU-3), amendments (DEC-7)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ktt_voucher.vouchers import rules
from ktt_voucher.vouchers.rules import NUMBER_ALPHABET, STATES, TRANSITIONS, parse_voucher_number

bodies = st.text(alphabet=NUMBER_ALPHABET, min_size=8, max_size=8)


def _number(body: str) -> str:
    from stdnum import luhn

    return rules.format_number(body + luhn.calc_check_digit(body, NUMBER_ALPHABET))


def test_new_numbers_are_valid_and_readable_vou_1():
    for _ in range(200):
        n = rules.new_voucher_number()
        assert len(n) == 15 and n.startswith("KTT-") and rules.is_valid_voucher_number(n)
        assert not set(n.replace("KTT-", "").replace("-", "")) & set("ILOU")


@pytest.mark.parametrize("typed", ["KTT-{a}-{b}-{c}", "ktt-{a}-{b}-{c}", "KTT{a}{b}{c}", "{a}{b}{c}", " {a} {b} {c} ", "{a}-{b}-{c}"])
def test_number_accepted_with_or_without_dashes_and_in_lowercase_vou_5(typed):
    number = _number("7K3M9QX2")
    a, b, c = number[4:8], number[9:13], number[14]
    parsed = parse_voucher_number(typed.format(a=a.lower(), b=b, c=c.lower()))
    assert parsed == rules.ParsedNumber(number, None)


@given(bodies, st.integers(min_value=0, max_value=8), st.sampled_from(NUMBER_ALPHABET))
@example("00000KTT", 6, "0")  # a body that itself reads "KTT-" once written out
def test_any_single_character_substitution_is_detected_by_the_check_character_vou_5(body, position, replacement):
    """VOU-5: a one-character typo never reads as another valid number (Luhn mod 32)."""
    number = _number(body)
    compact = list(number[4:8] + number[9:13] + number[14])  # by position: a body may itself contain "KTT-"
    if compact[position] == replacement:
        return
    compact[position] = replacement
    typo = f"KTT-{''.join(compact[:4])}-{''.join(compact[4:8])}-{compact[8]}"
    assert parse_voucher_number(typo).problem == "bad_check_character"


@given(bodies)
@example("00000KTT")
def test_swapping_two_different_neighbours_is_mostly_detected(body):
    full = _number(body)
    number = full[4:8] + full[9:13] + full[14]  # by position: a body may itself contain "KTT-"
    for i in range(8):
        a, b = number[i], number[i + 1]
        if a != b:
            compact = number[:i] + b + a + number[i + 2:]
            # Written in full, so a body that starts with the letters KTT is not read as the prefix.
            swapped = f"KTT-{compact[:4]}-{compact[4:8]}-{compact[8]}"
            # Luhn misses only the pair that maps onto itself (0 <-> last symbol, like 09/90 in base 10).
            if {a, b} != {"0", "Z"}:
                assert parse_voucher_number(swapped).problem == "bad_check_character"


@pytest.mark.parametrize("raw", ["", "KTT", "KTT-1234-5678", "KTT-1234-5678-90", "KTT-I234-5678-9", "ABC-1234-5678-9", "KTT-1234-5678-U"])
def test_malformed_numbers(raw):
    assert parse_voucher_number(raw).problem == "malformed"


def test_transition_table_is_exhaustive_and_explained():
    """Every pair of states has a verdict; a refused one says why in words."""
    for a in STATES:
        assert a in TRANSITIONS
        for b in STATES:
            why = rules.transition_refusal(a, b)
            assert (why is None) == (b in TRANSITIONS[a])
            if why is not None:
                assert len(why) > 10


def test_final_states_and_the_acyclic_table():
    """Refused, cancelled and revoked are final; no path revisits a state (so (voucher, state) is unique)."""
    assert rules.FINAL_STATES == {"refused", "cancelled", "revoked"}

    def walk(state, seen):
        for nxt in TRANSITIONS[state]:
            assert nxt not in seen
            walk(nxt, seen | {nxt})

    walk("issued", {"issued"})


@pytest.mark.parametrize("state,allowed", [("issued", True), ("delayed", True), ("in_use", False), ("expired", False),
                                           ("revoked", False), ("cancelled", False), ("refused", False)])
def test_refusal_vou_4(state, allowed):
    why = rules.transition_refusal(state, "refused")
    assert (why is None) == allowed
    if not allowed and state != "refused":  # refusing twice is harmless: the service answers, no error
        assert "VOU-4" in why


@pytest.mark.parametrize("state", ["issued", "delayed", "in_use", "expired"])
def test_revocation_from_every_non_final_state_dec_1(state):
    assert rules.can_transition(state, "revoked")


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31)), st.integers(min_value=-30, max_value=60))
def test_delayed_after_day_14_vou_3(decided_on, offset):
    """VOU-3: 'at the latest 14 days after the decision': day 14 is in time, day 15 is delayed."""
    today = decided_on + dt.timedelta(days=offset)
    assert rules.is_delayed("issued", decided_on, today) == (offset >= 15)
    for other in ("in_use", "delayed", "expired", "refused", "revoked", "cancelled"):
        assert not rules.is_delayed(other, decided_on, today)


def test_deadlines_vou_3():
    d = dt.date(2026, 11, 25)
    assert rules.contact_deadline(d) == dt.date(2026, 12, 2)
    assert rules.start_deadline(d) == dt.date(2026, 12, 9)


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31)), st.integers(min_value=-3, max_value=3))
def test_expiry_after_the_last_valid_day(valid_to, offset):
    today = valid_to + dt.timedelta(days=offset)
    assert rules.is_expired("issued", valid_to, today) == (offset >= 1)
    assert not rules.is_expired("revoked", valid_to, today)


@given(st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2028, 12, 31)))
def test_check_verdict_vou_5(today):
    start, end = dt.date(2026, 12, 1), dt.date(2027, 11, 30)
    expected = None if start <= today <= end else ("not_yet_valid" if today < start else "expired")
    for state in ("issued", "delayed", "in_use"):
        assert rules.check_verdict(state, start, end, today) == expected
    for state in ("revoked", "refused", "cancelled"):
        assert rules.check_verdict(state, start, end, today) == state
    assert rules.check_verdict("expired", start, end, today) == "expired"


def _amend(**kw):
    args = dict(applied_version=2, state="issued", valid_from=dt.date(2026, 12, 1), valid_to=dt.date(2027, 11, 30),
                type_="regular", new_version=3, period_start=dt.date(2026, 12, 1), period_end=dt.date(2028, 5, 31),
                voucher_kind="regular")
    args.update(kw)
    return rules.amendment_verdict(**args)


def test_amendment_moves_validity_dec_7():
    v = _amend()
    assert v.apply and v.validity_changed and not v.type_changed and v.valid_to == dt.date(2028, 5, 31)


@pytest.mark.parametrize("version", [1, 2])
def test_older_or_same_amendment_is_ignored_dec_7(version):
    assert not _amend(new_version=version).apply


def test_amendment_without_validity_change_changes_nothing():
    v = _amend(period_end=dt.date(2027, 11, 30))
    assert v.apply and not v.validity_changed and not v.type_changed


def test_type_follows_only_before_use():
    assert _amend(voucher_kind="intensive_coaching").type == "intensive_coaching"
    in_use = _amend(state="in_use", voucher_kind="intensive_coaching")
    assert in_use.type == "regular" and not in_use.type_changed and in_use.validity_changed


@pytest.mark.parametrize("state", ["revoked", "refused", "cancelled", "expired"])
def test_final_or_expired_voucher_keeps_its_facts(state):
    v = _amend(state=state)
    assert v.apply and not v.validity_changed and v.valid_to == dt.date(2027, 11, 30)
