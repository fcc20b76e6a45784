"""Pure billing rules: months, the base-value split, coaching-hour caps, money in integer cents,
and the settlement life cycle. Dates and facts in, verdict out; each cites its rule."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from ktt_common.bounds import MONTH_PATTERN

# Years within the date bounds (ktt_common.bounds): "0000-01" was a 500 (issue 13 fuzzing).
MONTH_RE = re.compile(MONTH_PATTERN)

DAY_FIRST_YEAR = "day_first_year"
DAY_BASE = "day_base"
COACHING_HOUR = "coaching_hour"
REFUND = "refund"
CORRECTION = "correction"
LINE_KINDS = (DAY_FIRST_YEAR, DAY_BASE, COACHING_HOUR, REFUND, CORRECTION)

OPEN_STATES = ("draft", "under_review")
FROZEN_STATES = ("approved", "settled", "paid")
STATES = OPEN_STATES + FROZEN_STATES


def parse_month(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``YYYY-MM``; ValueError when it is not a month."""
    if not MONTH_RE.match(month or ""):
        raise ValueError(f"'{month}' is not a month: use YYYY-MM")
    first = dt.date(int(month[:4]), int(month[5:]), 1)
    return first, next_month_first(first) - dt.timedelta(days=1)


def next_month_first(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month_str(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(day: dt.date) -> str:
    """The month before the one ``day`` is in: the month a settlement run on ``day`` computes."""
    return month_str(day.replace(day=1) - dt.timedelta(days=1))


def day_basis(day: dt.date, base_value_from: dt.date) -> str:
    """VOU-6, BIL-6: the first-year value up to the day before ``base_value_from``, the base value from it on."""
    return DAY_FIRST_YEAR if day < base_value_from else DAY_BASE


def day_value(basis: str, first_year_cents: int | None, base_cents: int | None) -> int | None:
    """BIL-6: the frozen day value of the basis (None when the agreement has no such value)."""
    return first_year_cents if basis == DAY_FIRST_YEAR else base_cents


def hours_payable(month_centihours: int, paid_before_centihours: int, approved_hours: int | None) -> int:
    """VOU-7: coaching is paid for approved hours only. Of this month's hours (hundredths), those that fit
    under the approved hours after what earlier months used; none without approved hours."""
    if approved_hours is None or approved_hours <= 0 or month_centihours <= 0:
        return 0
    cap = approved_hours * 100
    cumulative = paid_before_centihours + month_centihours
    return max(0, min(cumulative, cap) - min(paid_before_centihours, cap))


def amount_cents(quantity_centi: int, unit_value_cents: int) -> int:
    """Money in integer cents: quantity in hundredths × unit value, rounded half up to the cent
    (a day line is exact; only fractional coaching hours round). Negative amounts round symmetrically."""
    product = quantity_centi * unit_value_cents
    sign = -1 if product < 0 else 1
    return sign * ((abs(product) + 50) // 100)


def finnish_reference(seq: int) -> str:
    """A Finnish creditor reference (viitenumero): the base number and a check digit with weights 7, 3, 1
    from the right; at least 4 digits in all."""
    base = str(1000 + seq)
    return base + reference_check_digit(base)


def reference_check_digit(base: str) -> str:
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(base)))
    return str((10 - total % 10) % 10)


def may_approve(state: str, held: bool) -> str | None:
    """Why a settlement may not be approved now, or None. Only a settlement under review and not held."""
    if held:
        return "the settlement is held; it can be approved once its holds are released (BIL-2, BIL-3)"
    if state != "under_review":
        return f"only a settlement under review can be approved; this one is {state}"
    return None


def settles_on(month: str, settlement_day: int) -> dt.date:
    """The settlement day of a month's settlement: ``settlement_day`` of the next month."""
    first, _ = parse_month(month)
    return next_month_first(first).replace(day=settlement_day)


def quantity(centi: int) -> Decimal:
    """Hundredths back to a decimal quantity for display (days are whole)."""
    return (Decimal(centi) / 100).quantize(Decimal("0.01")) if centi % 100 else Decimal(centi // 100)
