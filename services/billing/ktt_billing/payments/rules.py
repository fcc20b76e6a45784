"""Pure payment rules: whether a provider's payment details let it be paid, and the due date."""

from __future__ import annotations

import datetime as dt

from stdnum import iban as iban_number
from stdnum.fi import ytunnus


def payment_details_problem(provider: object | None) -> str | None:
    """Why a provider cannot be paid, or None: a supplier number in the purchase ledger, a valid Y-tunnus
    and a valid IBAN are needed; such a settlement is held with this reason, never silently skipped."""
    if provider is None:
        return "no payment details: the provider registry has not told billing about this provider"
    missing = []
    if not getattr(provider, "supplier_number", None):
        missing.append("no supplier number in the purchase ledger")
    if not ytunnus.is_valid(getattr(provider, "business_id", "") or ""):
        missing.append("the Y-tunnus is not valid")
    if not iban_number.is_valid(getattr(provider, "iban", "") or ""):
        missing.append("the IBAN is not valid")
    return "; ".join(missing) or None


def due_date(execution_date: dt.date, payment_terms_days: int) -> dt.date:
    """The due date in the purchase ledger: the batch day plus the provider's payment terms."""
    return execution_date + dt.timedelta(days=max(0, payment_terms_days))
