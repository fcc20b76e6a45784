"""Request and response models of alerts."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ktt_common.bounds import BoundedDate


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str = Field(description="NoShowThresholdReached, LongSickLeave, RepeatedAbsences, ContinuityBroken, SituationChanged")
    rule: str
    client_id: uuid.UUID
    agreement_id: uuid.UUID
    provider_id: str
    unit_id: uuid.UUID
    since: dt.date
    raised_on: dt.date
    details: dict[str, Any]
    status: str = Field(description="open, acknowledged or closed")
    acknowledged_at: dt.datetime | None = None
    acknowledged_by: str | None = None
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    close_note: str | None = None


class AlertPage(BaseModel):
    items: list[AlertOut]
    total: int
    limit: int
    offset: int


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000, description="What was done (contacted the client, suspended...)")


class SituationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    occurred_on: BoundedDate = Field(description="When the change happened (not in the future)")
    summary: str = Field(min_length=1, max_length=1000,
                         description="What changed substantially, without health details beyond what is needed (ATT-13)")
