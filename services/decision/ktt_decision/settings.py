"""Settings of the decision service beyond the common ones."""

from __future__ import annotations

from pydantic import Field

from ktt_common.settings import Settings


class DecisionSettings(Settings):
    # DEC-8: the city whose residents the vouchers are for, and whether pushes are checked against it.
    home_municipality: str = Field("Turku", alias="HOME_MUNICIPALITY")
    home_municipality_check: bool = Field(True, alias="HOME_MUNICIPALITY_CHECK")
    # DATA-2 retention: a client's personal data is erased (crypto-shredding) this many years after the
    # end of their last decision's period. The city's guideline names no period; 6 years is the
    # default (decisions.md 2026-12-01).
    retention_years: int = Field(6, ge=1, le=100, alias="KTT_RETENTION_YEARS")
