"""Request and response models of absence notices and allowances."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ktt_common.bounds import BoundedDate


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    client_id: uuid.UUID
    period_start: dt.date
    period_end: dt.date
    recipient: str = Field(description="kela or unemployment_fund (ATT-6)")
    fund_name: str | None = None
    language: str
    days: list[dict[str, Any]] = Field(description="The absence days of the period with their reasons")
    absence_days: int
    unauthorised_days: int
    to_employment_authority: bool
    status: str = Field(description="pending or sent")
    created_on: dt.date
    sent_on: dt.date | None = None
    sent_by: str | None = None


class NoticePage(BaseModel):
    items: list[NoticeOut]
    total: int
    limit: int
    offset: int


class MarkSentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sent_on: BoundedDate | None = Field(None, description="Default today; not in the future")


class BenefitPayerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payer: Literal["kela", "unemployment_fund"]
    fund_name: str | None = Field(None, max_length=200)


class BenefitPayerOut(BaseModel):
    client_id: uuid.UUID
    benefit_basis: str | None
    payer: str | None
    fund_name: str | None


class AllowanceOut(BaseModel):
    client_id: uuid.UUID
    month: str
    benefit_basis: str | None
    allowance: str | None = Field(description="expense_allowance (unemployment benefit) or activity_allowance "
                                              "(social assistance); null while the basis is unknown (DEC-5)")
    attended_days: list[dt.date]
    day_rate_cents: int
    amount_cents: int = Field(description="attended days x rate; paid to the client, who is never charged (DEC-5, BIL-4)")


class GridRow(BaseModel):
    agreement_id: uuid.UUID
    client_id: uuid.UUID
    days: dict[str, str] = Field(description="day -> P present, A absent (authorised), U absent (unauthorised), "
                                             "N not organised, ? scheduled without an entry; unscheduled days are absent")
    missing: list[dt.date]
    realised_days: int


class GridOut(BaseModel):
    unit_id: uuid.UUID
    month: str
    rows: list[GridRow]


class SpotCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider_id: str = Field(min_length=1, max_length=100)
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    sample_size: int | None = Field(None, strict=True, ge=1, le=500)


class SpotCheckOut(BaseModel):
    provider_id: str
    month: str
    population: int
    sample: list[Any]
