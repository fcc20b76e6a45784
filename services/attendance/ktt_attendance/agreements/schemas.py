"""Request and response models of agreement copies and deviations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ktt_common.bounds import DateRange
from ktt_contracts.attendance import DeviationKind


class DeviationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: Annotated[dt.date, DateRange("AGR-14")] = Field(description="The day that deviates from the schedule; recorded at the latest the day before")
    kind: DeviationKind = Field(description="group_coaching, job_interview or other (AGR-14)")
    reason: str = Field(min_length=1, max_length=1000)


class DeviationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    agreement_id: uuid.UUID
    date: dt.date
    kind: str
    reason: str
    recorded_on: dt.date
    recorded_by: str


class AgreementCopyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    agreement_id: uuid.UUID
    client_id: uuid.UUID | None
    provider_id: str | None
    unit_id: uuid.UUID | None
    product_kind: str | None
    form: str | None
    start: dt.date | None
    end: dt.date | None
    ended_on: dt.date | None
    last_day: dt.date | None
    started_on: dt.date | None
    approved_hours: int | None
    periods: list[dict[str, Any]]
