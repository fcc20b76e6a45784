"""Request and response models of the decision API (the integration contract of Effica-like systems)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ktt_common.bounds import BoundedDate, DateRange, Email, Strict, StrictBool, Version
from ktt_contracts.decision import RepresentativeScope


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


class StartNoticeOut(BaseModel):
    """A TE-office start notice (DEC-6), without the hetu."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    client_id: uuid.UUID
    first_name: str
    last_name: str
    voucher_id: uuid.UUID
    decision_id: uuid.UUID
    agreement_id: uuid.UUID | None
    started_on: dt.date
    provider_id: str | None
    provider_name: str | None
    unit_id: str | None
    unit_name: str | None
    form: str | None
    days_per_week: int | None
    hours_per_day: Decimal | None
    status: str
    created_at: dt.datetime
    sent_on: dt.date | None
    sent_by: str | None


class StartNoticeDetailOut(StartNoticeOut):
    """One notice for the official who sends it: with the hetu the TE office needs (read is audited)."""

    hetu: str


class ClientFlagOut(BaseModel):
    """A refusal or interruption on the client's record (DEC-9). No sanction is computed."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    client_id: uuid.UUID
    kind: str
    occurred_on: dt.date
    reason: str | None
    voucher_id: uuid.UUID | None
    decision_id: uuid.UUID | None
    source_event_id: str
    source_event_type: str
    details: dict
    created_at: dt.datetime
    cleared_on: dt.date | None = Field(None, description="Set when a later correction made it no refusal (e.g. an "
                                                           "absence authorised after all)")
    cleared_reason: str | None = None


class RepresentativeIn(BaseModel):
    """A representative (asiainhoitaja) the client authorised (VOU-9). No hetu is collected (DATA-4)."""

    model_config = Strict
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: Email | None = None
    relation: str | None = Field(None, max_length=200, description="Free text, e.g. sister, guardian, friend")
    authorised_on: Annotated[dt.date, DateRange("VOU-9")] = Field(description="Day the client authorised the representative; not in the future")
    valid_until: BoundedDate | None = Field(None, description="Last day of the authorisation; none: until withdrawn")
    scope: list[RepresentativeScope] = Field(min_length=1, max_length=3,
                                             description="What the representative may do for the client")


class RepresentativeWithdrawIn(BaseModel):
    model_config = Strict
    withdrawn_on: BoundedDate | None = Field(None, description="Defaults to today")


class RepresentativeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    client_id: uuid.UUID
    name: str
    phone: str | None
    email: str | None
    relation: str | None
    scope: list[str]
    authorised_on: dt.date
    valid_until: dt.date | None
    recorded_by: str
    recorded_at: dt.datetime
    withdrawn_on: dt.date | None
    withdrawn_by: str | None
    active: bool = Field(False, description="The representative acts for the client today (VOU-9)")
