"""Request and response models of the decision API (the integration contract of Effica-like systems)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Strict = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ClientIn(BaseModel):
    model_config = Strict
    hetu: str = Field(min_length=11, max_length=11, description="Personal identity code; stored encrypted, never returned")
    first_name: str = Field(min_length=1, max_length=200)
    last_name: str = Field(min_length=1, max_length=200)
    language: str = Field(pattern=r"^[a-z]{2}$", description="fi, sv or another ISO 639-1 code")
    municipality: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=200)
    address: str | None = Field(None, max_length=300)
    interpreter_needed: bool = False


class CaseWorkerIn(BaseModel):
    model_config = Strict
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=200)
    office: Literal["typake", "social_work"]


class PlanIn(BaseModel):
    model_config = Strict
    type: Literal["activation_plan", "multisectoral_plan"]
    reference: str = Field(min_length=1, max_length=100)
    date: dt.date


class PeriodIn(BaseModel):
    model_config = Strict
    start: dt.date
    end: dt.date


class SpecialIn(BaseModel):
    model_config = Strict
    kind: Literal["none", "assessment_period", "intensive_coaching"] = "none"
    justification: str | None = Field(None, max_length=4000)
    approved_hours: int | None = Field(None, ge=1, le=2000)


class DecisionIn(BaseModel):
    model_config = Strict
    source_system: str = Field(min_length=1, max_length=50, examples=["effica"])
    source_id: str = Field(min_length=1, max_length=100, examples=["EFF-2026-000123"])
    version: int = Field(ge=1)
    decided_on: dt.date
    decided_by: str = Field(min_length=1, max_length=200)
    client: ClientIn
    case_worker: CaseWorkerIn
    plan: PlanIn
    benefit_basis: Literal["labour_market_subsidy", "unemployment_allowance", "social_assistance"]
    period: PeriodIn
    form: Literal["individual", "group"]
    special: SpecialIn = Field(default_factory=SpecialIn)
    extension_justification: str | None = Field(None, max_length=4000)


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    client_id: uuid.UUID
    source_system: str
    source_id: str
    version: int
    status: str
    decided_on: dt.date
    period_start: dt.date
    period_end: dt.date
    form: str
    benefit_basis: str
    voucher_kind: str
    created_at: dt.datetime
    updated_at: dt.datetime
