"""Request and response models of groups and queues (PRV-5, PRV-6, PRV-7)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field

from ktt_common.bounds import BoundedDate, Strict, StrictBool

from ktt_registry.schemas import Out

# --- groups ----------------------------------------------------------------------------------

class GroupIn(BaseModel):
    model_config = Strict
    product_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)
    starts_on: BoundedDate
    ends_on: BoundedDate
    places: int = Field(strict=True, ge=1, le=100)
    lead_instructor_id: uuid.UUID
    second_responsible_id: uuid.UUID
    instructors_present: int = Field(strict=True, ge=0, le=10)


class GroupPatch(BaseModel):
    model_config = Strict
    starts_on: BoundedDate | None = None
    ends_on: BoundedDate | None = None
    places_full: StrictBool | None = None
    instructors_present: int | None = Field(None, strict=True, ge=0, le=10)


class EnrolmentIn(BaseModel):
    model_config = Strict
    enrolled: int = Field(strict=True, ge=0, le=100)


class GroupOut(BaseModel):
    model_config = Out
    id: uuid.UUID
    unit_id: uuid.UUID
    product_id: uuid.UUID
    name: str
    starts_on: dt.date
    ends_on: dt.date
    places: int
    enrolled: int
    places_full: bool
    lead_instructor_id: uuid.UUID
    second_responsible_id: uuid.UUID
    instructors_present: int


# --- queues ----------------------------------------------------------------------------------

class QueueJoinIn(BaseModel):
    model_config = Strict
    client_id: uuid.UUID = Field(description="The pseudonymous client id (never a hetu, DATA-4)")


class QueueLeaveIn(BaseModel):
    model_config = Strict
    outcome: Literal["started", "withdrew", "elsewhere"]


class QueueEntryOut(BaseModel):
    id: uuid.UUID
    unit_id: uuid.UUID
    product_id: uuid.UUID
    client_id: uuid.UUID
    position: int | None
    unit_position: int | None = Field(None, description="Rank among all clients waiting for the unit's individual places (PRV-7)")
    joined_on: dt.date
    expected_start: dt.date | None
    outcome: str | None = None
