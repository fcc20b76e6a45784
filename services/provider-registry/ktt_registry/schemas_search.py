"""Response models of the public provider search (PRV-4)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

# --- search -----------------------------------------------------------------------------------

class SearchValue(BaseModel):
    effective_from: dt.date
    day_value_first_year: Decimal | None
    base_day_value: Decimal | None
    hour_value: Decimal | None


class SearchProduct(BaseModel):
    id: uuid.UUID
    kind: str
    form: str
    name: str
    description: str
    tasks: list[str]
    themes: list[str]
    current_value: SearchValue | None


class SearchGroup(BaseModel):
    id: uuid.UUID
    product_id: uuid.UUID
    name: str
    starts_on: dt.date
    ends_on: dt.date
    free_places: int
    places_full: bool


class SearchQueue(BaseModel):
    product_id: uuid.UUID
    queued: int
    expected_wait_days: int | None = Field(description="Estimated wait of a client joining now (PRV-7); null: no estimate")


class SearchUnit(BaseModel):
    id: uuid.UUID
    name: str
    street_address: str
    postal_code: str
    city: str
    district: str | None
    phone_hours: str | None
    responsible_person: str
    step_free_access: bool
    suits_partial_work_ability: bool
    foli_reachable: bool
    languages: list[str]
    warm_meal: bool
    taking_clients: bool
    free_places: int
    groups: list[SearchGroup]
    queues: list[SearchQueue]


class SearchHit(BaseModel):
    provider_id: str
    name: str
    presentation: str | None
    website: str | None
    contact: dict[str, Any]
    phone_hours: str | None
    units: list[SearchUnit]
    products: list[SearchProduct]
