"""Request and response bodies of consents (DATA-1)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ktt_common.bounds import BoundedDate, DateRange, Strict

ConsentScope = Literal["plan", "decision", "contact"]


class ConsentIn(BaseModel):
    model_config = Strict
    provider_id: str = Field(min_length=1, max_length=100)
    scope: list[ConsentScope] = Field(min_length=1, max_length=3, description="What may be shared with the provider")
    given_on: Annotated[dt.date, DateRange("DATA-1")] = Field(description="Date of the client's written consent")
    valid_until: BoundedDate | None = None



class ConsentWithdrawIn(BaseModel):
    model_config = Strict
    withdrawn_on: BoundedDate | None = Field(None, description="Defaults to today")



class ConsentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    client_id: uuid.UUID
    provider_id: str
    scope: list[str]
    given_on: dt.date
    valid_until: dt.date | None
    recorded_by: str
    recorded_at: dt.datetime
    withdrawn_on: dt.date | None
    withdrawn_by: str | None
    active: bool = False



class ConsentCheckOut(BaseModel):
    client_id: uuid.UUID
    provider_id: str
    scope: str
    allowed: bool
    consent_id: uuid.UUID | None = None
    valid_until: dt.date | None = None
