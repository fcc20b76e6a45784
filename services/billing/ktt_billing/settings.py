"""Settings of the billing service beyond the common ones."""

from __future__ import annotations

from pydantic import Field

from ktt_common.settings import Settings


class BillingSettings(Settings):
    # The purchaser's settlement day of the month (4th-8th in the national voucher system).
    settlement_day: int = Field(8, ge=1, le=28, alias="BILLING_SETTLEMENT_DAY")
    # BIL-3: hold a settlement until every paid agreement's monthly follow-up report is submitted.
    require_monthly_follow_up: bool = Field(True, alias="BILLING_REQUIRE_MONTHLY_FOLLOW_UP")
    # The payer in pain.001 files.
    debtor_name: str = Field("Turun kaupunki", alias="BILLING_DEBTOR_NAME")
    debtor_iban: str = Field("FI2112345600000785", alias="BILLING_DEBTOR_IBAN")
    debtor_bic: str = Field("NDEAFIHH", alias="BILLING_DEBTOR_BIC")
