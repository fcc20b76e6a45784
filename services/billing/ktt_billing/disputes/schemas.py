from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


class DisputeIn(BaseModel):
    reason: str = Field(min_length=3, max_length=2000, description="What is wrong with the line")
    claimed_quantity: Decimal | None = Field(None, ge=0, le=10000, decimal_places=2,
                                             description="The days or hours the provider holds right")


class ResolveIn(BaseModel):
    outcome: Literal["accepted", "rejected"]
    answer: str = Field(min_length=3, max_length=2000, description="The official's answer to the provider")
    corrected_quantity: Decimal | None = Field(None, ge=0, le=10000, decimal_places=2,
                                               description="Accepted: the right quantity (default: the claimed one)")


class DisputeOut(BaseModel):
    id: uuid.UUID
    settlement_id: uuid.UUID
    line_id: uuid.UUID
    provider_id: str
    reason: str
    claimed_quantity: Decimal | None
    state: str
    opened_on: dt.date
    answer: str | None
    corrected_quantity: Decimal | None
    resolved_on: dt.date | None
    correction_settlement_id: uuid.UUID | None
