"""Request and response models of month reporting."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from ktt_contracts.attendance import MonthAgreementCount


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: uuid.UUID = Field(description="The unit whose month is confirmed (ATT-10)")


class MissingDays(BaseModel):
    agreement_id: uuid.UUID
    client_id: uuid.UUID
    days: list[dt.date]


class MonthReportOut(BaseModel):
    id: uuid.UUID | None = None
    provider_id: str
    unit_id: uuid.UUID
    month: str
    due_on: dt.date | None
    status: str = Field(description="confirmed, late (unconfirmed after the due day) or open")
    confirmed_on: dt.date | None = None
    confirmed_by: str | None = None
    late: bool
    late_marked_on: dt.date | None = None
    agreements: list[MonthAgreementCount] = []
