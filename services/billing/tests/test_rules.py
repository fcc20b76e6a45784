"""Pure billing rules at their boundaries and with hypothesis."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ktt_billing.settlements import rules


def test_base_value_applies_from_its_day_vou_6():
    assert rules.day_basis(dt.date(2026, 11, 15), dt.date(2026, 11, 16)) == "day_first_year"
    assert rules.day_basis(dt.date(2026, 11, 16), dt.date(2026, 11, 16)) == "day_base"


def test_months():
    assert rules.parse_month("2024-02") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert rules.parse_month("2026-12") == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert rules.previous_month(dt.date(2027, 1, 8)) == "2026-12"
    assert rules.settles_on("2026-12", 8) == dt.date(2027, 1, 8)
    for bad in ("2026-13", "2026-1", "", "x"):
        with pytest.raises(ValueError):
            rules.parse_month(bad)


def test_hours_cap_boundaries_vou_7():
    assert rules.hours_payable(1000, 0, 10) == 1000
    assert rules.hours_payable(1001, 0, 10) == 1000
    assert rules.hours_payable(500, 600, 10) == 400
    assert rules.hours_payable(500, 1000, 10) == 0
    assert rules.hours_payable(500, 0, None) == 0


@given(st.lists(st.integers(0, 2000), max_size=12), st.integers(0, 100))
def test_hours_paid_over_months_never_exceed_the_approval_vou_7(months, approved):
    paid, before = [], 0
    for h in months:
        paid.append(rules.hours_payable(h, before, approved))
        before += h
    assert sum(paid) == min(sum(months), approved * 100) if approved else sum(paid) == 0
    assert all(p >= 0 for p in paid)


def test_rounding_half_up_to_the_cent():
    assert rules.amount_cents(125, 3333) == 4166   # 41.6625 -> 41.66
    assert rules.amount_cents(150, 3333) == 5000   # 49.995 -> 50.00
    assert rules.amount_cents(-150, 3333) == -5000


@given(st.integers(-10**6, 10**6), st.integers(0, 10**5))
def test_a_refund_cancels_its_line_exactly(q, value):
    assert rules.amount_cents(q, value) + rules.amount_cents(-q, value) == 0
    assert abs(rules.amount_cents(q, value) * 100 - q * value) <= 50


def test_finnish_reference_check_digit():
    assert rules.reference_check_digit("1234567") == "2"   # the banks' own example: 12345672
    assert rules.finnish_reference(0) == "10003"
