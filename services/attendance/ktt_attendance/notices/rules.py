"""Pure rules of Kela's absence notice (TT3) and of the allowances (ATT-6, DEC-5).

Public sources: one TT3 per client covering a two-week review period, sent at least every two
weeks; members of an unemployment fund are reported to their fund. Absences that may lead to
interrupting the service also go to the employment authority. The expense allowance (unemployment
benefit) or activity allowance (social assistance) is paid per attended day only.
"""

from __future__ import annotations

import datetime as dt

PERIOD_DAYS = 14


def review_period(day: dt.date, anchor: dt.date) -> tuple[dt.date, dt.date]:
    """The two-week review period holding ``day``: periods run from ``anchor`` (a Monday) in steps of 14 days."""
    offset = (day - anchor).days // PERIOD_DAYS
    start = anchor + dt.timedelta(days=offset * PERIOD_DAYS)
    return start, start + dt.timedelta(days=PERIOD_DAYS - 1)


def last_complete_period(run_date: dt.date, anchor: dt.date) -> tuple[dt.date, dt.date]:
    """The latest review period that ended before ``run_date`` (the job runs once it has passed)."""
    start, _ = review_period(run_date, anchor)
    return start - dt.timedelta(days=PERIOD_DAYS), start - dt.timedelta(days=1)


def to_employment_authority(unauthorised_days: int) -> bool:
    """ATT-6 / ATT-7: an unauthorised absence may lead to interrupting the service, so the
    employment authority is told too."""
    return unauthorised_days > 0


def allowance_kind(benefit_basis: str | None) -> str | None:
    """DEC-5: unemployment-benefit clients get the expense allowance, social-assistance clients the
    activity allowance (None while the basis is unknown)."""
    if benefit_basis in ("labour_market_subsidy", "unemployment_allowance"):
        return "expense_allowance"
    if benefit_basis == "social_assistance":
        return "activity_allowance"
    return None
