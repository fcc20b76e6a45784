"""Settings of the voucher service beyond the common ones."""

from __future__ import annotations

from pydantic import Field

from ktt_common.settings import Settings


class VoucherSettings(Settings):
    # VOU-2: how long a client's personal voucher link opens the voucher.
    voucher_link_ttl_days: int = Field(30, ge=1, le=366, alias="VOUCHER_LINK_TTL_DAYS")
    # VOU-2: where the client finds the approved providers (shown on the voucher page and PDF).
    providers_url: str = Field("https://www.palveluseteli.fi", alias="VOUCHER_PROVIDERS_URL")
    # REP-3/REP-4: PeriodEnding is published this many days before a period ends.
    period_ending_lead_days: int = Field(21, ge=8, le=90, alias="PERIOD_ENDING_LEAD_DAYS")
    # DATA-2: how long after an agreement's end its provider still sees what billing and reports need.
    ended_agreement_provider_days: int = Field(400, ge=0, le=3650, alias="ENDED_AGREEMENT_PROVIDER_DAYS")
