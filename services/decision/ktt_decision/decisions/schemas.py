"""Request and response models of the decision API (the integration contract of Effica-like systems)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ktt_common.bounds import DateRange, Email, Strict, StrictBool, Version


class ClientIn(BaseModel):
    model_config = Strict
    hetu: str = Field(min_length=11, max_length=11, description="Personal identity code; stored encrypted, never returned")
    first_name: str = Field(min_length=1, max_length=200)
    last_name: str = Field(min_length=1, max_length=200)
    language: str = Field(pattern=r"^[a-z]{2}$", description="fi, sv or another ISO 639-1 code")
    municipality: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(None, max_length=40)
    email: Email | None = None
    address: str | None = Field(None, max_length=300)
    interpreter_needed: StrictBool = False


class CaseWorkerIn(BaseModel):
    model_config = Strict
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: Email | None = None
    office: Literal["typake", "social_work"]


class PlanIn(BaseModel):
    model_config = Strict
    type: Literal["activation_plan", "multisectoral_plan"]
    reference: str = Field(min_length=1, max_length=100)
    date: Annotated[dt.date, DateRange("DEC-2")]


class PeriodIn(BaseModel):
    model_config = Strict
    start: Annotated[dt.date, DateRange("DEC-4")]
    end: Annotated[dt.date, DateRange("DEC-4")]


class SpecialIn(BaseModel):
    model_config = Strict
    kind: Literal["none", "assessment_period", "intensive_coaching"] = "none"
    justification: str | None = Field(None, max_length=4000)
    approved_hours: int | None = Field(None, strict=True, ge=1, le=2000)


class DecisionIn(BaseModel):
    model_config = Strict
    source_system: str = Field(min_length=1, max_length=50, examples=["effica"])
    source_id: str = Field(min_length=1, max_length=100, examples=["EFF-2026-000123"])
    version: Version
    decided_on: Annotated[dt.date, DateRange("DEC-3")]
    received_on: Annotated[dt.date, DateRange("VOU-3")] | None = Field(
        None, description="Day the client received the decision: the VOU-3 deadlines (contact a provider within 7 days, "
                          "start within 14) count from it. Not before decided_on, not in the future; decided_on when left out")
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
    received_on: dt.date | None = Field(None, description="Day the client received the decision (VOU-3)")
    period_start: dt.date
    period_end: dt.date
    form: str
    benefit_basis: str
    voucher_kind: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ClientOut(BaseModel):
    """The client as the decision's latest version recorded them (DEC-3); never the hetu (DATA-4)."""

    first_name: str
    last_name: str
    language: str
    municipality: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    interpreter_needed: bool | None = None


class CaseWorkerOut(BaseModel):
    name: str
    phone: str | None = None
    email: str | None = None
    office: str


class PlanOut(BaseModel):
    type: str
    reference: str
    date: dt.date


class SpecialOut(BaseModel):
    kind: str
    justification: str | None = None
    approved_hours: int | None = None


class DecisionDetailOut(DecisionOut):
    """A decision with the facts it rests on, for officials and the integrator that pushed it."""

    decided_by: str | None = None
    client: ClientOut | None = Field(None, validation_alias="client_data")
    case_worker: CaseWorkerOut | None = None
    plan: PlanOut | None = None
    special: SpecialOut | None = None
    extension_justification: str | None = None
    revoked_on: dt.date | None = None
    revoked_reason: str | None = None


class RevokeIn(BaseModel):
    model_config = Strict
    reason: str = Field(min_length=1, max_length=2000, description="Why the decision is revoked (DEC-7)")
    revoked_on: Annotated[dt.date, DateRange("DEC-7")] | None = Field(None, description="Defaults to today; from the decision to the end of its period (DEC-7)")


