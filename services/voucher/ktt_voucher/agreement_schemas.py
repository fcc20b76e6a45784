"""Request and response models of agreements.

Draft fields are optional in the schema on purpose: the AGR-7 completeness check reports every
missing item at once in one 422 naming the rule, instead of stopping at the first.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Strict = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ScheduleDayIn(BaseModel):
    model_config = Strict
    weekday: str = Field(description="mon, tue, wed, thu, fri, sat or sun")
    start: dt.time
    end: dt.time


class PersonIn(BaseModel):
    model_config = Strict
    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=50)
    email: str | None = Field(None, max_length=200)


class CaseWorkerIn(BaseModel):
    model_config = Strict
    name: str | None = Field(None, max_length=200)
    office: Literal["typake", "social_work"] | None = None


class TermsIn(BaseModel):
    """AGR-7 also: the absence-reporting duty and certificates, sanctions, no participation under the influence."""

    model_config = Strict
    absence_reporting_and_certificates: bool = False
    sanctions_for_unauthorised_absence: bool = False
    no_participation_under_influence: bool = False


class AgreementDraftIn(BaseModel):
    model_config = Strict
    voucher_number: str | None = Field(None, max_length=30)
    unit_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    schedule: list[ScheduleDayIn] | None = None
    tasks: list[str] | None = None
    goals: str | None = Field(None, max_length=4000)
    instructor: PersonIn | None = None
    client_contact: PersonIn | None = Field(None, description="The client's phone or email for the agreement")
    case_worker: CaseWorkerIn | None = None
    assessment_justification: str | None = Field(None, max_length=4000)
    assessment_content: str | None = Field(None, max_length=4000)
    terms: TermsIn | None = None


class SignatureIn(BaseModel):
    model_config = Strict
    party: Literal["responsible_person", "client"]
    name: str = Field(min_length=1, max_length=200)
    place: str = Field(min_length=1, max_length=200)
    signed_on: dt.date | None = Field(None, description="Defaults to today")


class OverrideIn(BaseModel):
    model_config = Strict
    reason: str = Field(min_length=3, max_length=2000)


class ContinuationIn(BaseModel):
    model_config = Strict
    end: dt.date
    schedule: list[ScheduleDayIn]
    goals: str = Field(min_length=1, max_length=4000)


class EndIn(BaseModel):
    model_config = Strict
    kind: Literal["mutual", "unsuitable", "city_suspension"]
    reason: str = Field(min_length=3, max_length=2000)
    ended_on: dt.date | None = Field(None, description="Defaults to today")


class RefusalIn(BaseModel):
    model_config = Strict
    voucher_number: str = Field(max_length=30)
    unit_id: uuid.UUID | None = None
    reason: str = Field(min_length=10, max_length=2000, description="A justified reason, told to Typake (AGR-15)")


class PeriodOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    seq: int
    start: dt.date
    end: dt.date
    schedule: list[dict[str, str]]
    goals: str
    evaluation_due: dt.date
    ending_notified_on: dt.date | None


class AgreementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    voucher_id: uuid.UUID
    client_id: uuid.UUID
    decision_id: uuid.UUID
    provider_id: str
    unit_id: uuid.UUID
    product_id: uuid.UUID
    product_kind: str
    form: str
    state: str
    start_date: dt.date
    end_date: dt.date
    content: dict[str, Any]
    warnings: list[dict[str, Any]]
    start_override_reason: str | None
    responsible_signature: dict[str, Any] | None
    client_signature: dict[str, Any] | None
    signed_on: dt.date | None
    price_version: int | None
    day_value_first_year_cents: int | None
    base_day_value_cents: int | None
    hour_value_cents: int | None
    base_value_from: dt.date | None
    started_on: dt.date | None
    previous_agreement_id: uuid.UUID | None
    ended_on: dt.date | None
    end_kind: str | None
    end_reason: str | None
    periods: list[PeriodOut] = []
    plan_visible: bool = Field(False, description="Plan data may be shown to the provider: the client's consent is recorded (DATA-1)")


class DeadlineOut(BaseModel):
    kind: Literal["contact_provider", "service_start", "signing", "evaluation", "period_end"]
    rule: str
    due: dt.date
    overdue: bool
    client_id: uuid.UUID
    voucher_id: uuid.UUID
    agreement_id: uuid.UUID | None = None
    detail: str
