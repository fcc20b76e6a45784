"""Request and response models of settlements (field names are a contract with integrators)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

LineKind = Literal["day_first_year", "day_base", "coaching_hour", "refund", "correction"]


class HoldOut(BaseModel):
    rule: str
    reason: str
    unit_id: str | None = None
    agreement_id: str | None = None


class LineOut(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    agreement_id: uuid.UUID
    kind: LineKind
    basis: str = Field(description="What a refund or correction is about: day_first_year | day_base | coaching_hour")
    service_month: str = Field(description="The month the service was given (YYYY-MM)")
    date_from: dt.date
    date_to: dt.date
    quantity: Decimal = Field(description="Days, or coaching hours (2 decimals); negative on a refund")
    unit_value_cents: int
    amount_cents: int
    cause: str | None = None
    dispute_id: uuid.UUID | None = None


class Totals(BaseModel):
    total_cents: int
    days_cents: int
    coaching_cents: int
    refunds_cents: int
    corrections_cents: int
    client_fee_cents: int = Field(0, description="Always 0: the client pays nothing (BIL-4, DEC-5)")


class SettlementOut(BaseModel):
    id: uuid.UUID
    provider_id: str
    month: str
    state: str
    held: bool
    hold_reasons: list[HoldOut]
    total_cents: int
    reference: str
    created_on: dt.date
    approved_on: dt.date | None
    approved_by: str | None
    settled_on: dt.date | None
    paid_on: dt.date | None
    payment_batch_id: uuid.UUID | None


class SettlementDetail(SettlementOut):
    lines: list[LineOut]
    totals: Totals
