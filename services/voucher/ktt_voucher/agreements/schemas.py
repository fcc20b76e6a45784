"""Request and response models of agreements.

Draft fields are optional in the schema on purpose: the AGR-7 completeness check reports every
missing item at once in one 422 naming the rule, instead of stopping at the first.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ktt_common.bounds import DateRange, Email, Strict, StrictBool


class ScheduleDayIn(BaseModel):
    model_config = Strict
    weekday: str = Field(description="mon, tue, wed, thu, fri, sat or sun")
    start: dt.time
    end: dt.time


class PersonIn(BaseModel):
    model_config = Strict
    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=50)
    email: Email | None = None


class CaseWorkerIn(BaseModel):
    """The case worker, recorded as the coordinator (AGR-1, AGR-7). The office is the decision's:
    when given it must match it (AGR-5 copies follow the decision, not what was typed)."""

    model_config = Strict
    name: str | None = Field(None, max_length=200)
    office: Literal["typake", "social_work"] | None = None
    phone: str | None = Field(None, max_length=50)
    email: Email | None = None


class TermsIn(BaseModel):
    """AGR-7 also: the absence-reporting duty and certificates, sanctions, no participation under
    the influence; AGR-17: termination and complaint terms, and what every client gets (a
    self-monitoring plan, an orientation folder, fire-safety induction)."""

    model_config = Strict
    absence_reporting_and_certificates: StrictBool = False
    sanctions_for_unauthorised_absence: StrictBool = False
    no_participation_under_influence: StrictBool = False
    termination_and_complaint_terms: StrictBool = False
    self_monitoring_plan: StrictBool = False
    orientation_folder: StrictBool = False
    fire_safety_induction: StrictBool = False


class AgreementDraftIn(BaseModel):
    model_config = Strict
    voucher_number: str | None = Field(None, max_length=30)
    unit_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    start_date: Annotated[dt.date, DateRange("AGR-4")] | None = None
    end_date: Annotated[dt.date, DateRange("AGR-4")] | None = None
    schedule: list[ScheduleDayIn] | None = None
    tasks: list[str] | None = None
    goals: str | None = Field(None, max_length=4000)
    instructor: PersonIn | None = None
    client_contact: PersonIn | None = Field(None, description="The client's phone or email for the agreement")
    case_worker: CaseWorkerIn | None = None
    assessment_justification: str | None = Field(None, max_length=4000)
    assessment_content: str | None = Field(None, max_length=4000)
    individual_coaching: str | None = Field(None, max_length=500,
                                            description="The amount of individual coaching, e.g. '1 h a week' (AGR-17)")
    parallel_services: list[Annotated[str, Field(max_length=300)]] | None = Field(
        None, max_length=20, description="Other services the client takes part in at the same time; [] for none (AGR-17)")
    work_cards: list[Annotated[str, Field(max_length=300)]] | None = Field(
        None, max_length=20, description="Work cards or qualification parts to be earned; [] for none (AGR-17)")
    terms: TermsIn | None = None


class SignatureIn(BaseModel):
    """AGR-1 / AGR-7: the unit's responsible person (or a named deputy) and the instructor sign
    with the provider's login; the client signs with their own login or the voucher link, or an
    official attests a signature made on paper (``paper``)."""

    model_config = Strict
    party: Literal["responsible_person", "instructor", "client"]
    name: str = Field(min_length=1, max_length=200)
    place: str = Field(min_length=1, max_length=200)
    signed_on: Annotated[dt.date, DateRange("AGR-1")] | None = Field(None, description="Defaults to today")
    paper: StrictBool = Field(False, description="An official attests the client's signature on paper, dated signed_on")


class ChangeSignatureIn(BaseModel):
    model_config = Strict
    name: str = Field(min_length=1, max_length=200)
    place: str = Field(min_length=1, max_length=200)
    signed_on: Annotated[dt.date, DateRange("AGR-1")] | None = Field(None, description="Defaults to today")


class ChangeSignIn(ChangeSignatureIn):
    party: Literal["responsible_person", "client"]
    paper: StrictBool = False


class OverrideIn(BaseModel):
    model_config = Strict
    reason: str = Field(min_length=3, max_length=2000)


class ContinuationIn(BaseModel):
    """AGR-10: the next period's days, hours and goals, proposed with the responsible person's
    signature; it takes effect when the client signs too, at the latest a week before the period ends."""

    model_config = Strict
    end: Annotated[dt.date, DateRange("AGR-4")]
    schedule: list[ScheduleDayIn]
    goals: str = Field(min_length=1, max_length=4000)
    tasks: list[Annotated[str, Field(max_length=300)]] | None = Field(None, max_length=30)
    reduction_reason: str | None = Field(None, min_length=3, max_length=2000,
                                         description="Why days or hours drop (AGR-10: progression is the aim)")
    signature: ChangeSignatureIn


class ReviewIn(BaseModel):
    """AGR-12: a mid-period review of the schedule, tasks or goals, from a day on; both sign."""

    model_config = Strict
    effective_from: Annotated[dt.date, DateRange("AGR-12")]
    schedule: list[ScheduleDayIn] | None = None
    tasks: list[Annotated[str, Field(max_length=300)]] | None = Field(None, max_length=30)
    goals: str | None = Field(None, min_length=1, max_length=4000)
    reduction_reason: str | None = Field(None, min_length=3, max_length=2000)
    signature: ChangeSignatureIn


class EndIn(BaseModel):
    """AGR-13: ``mutual`` and ``unsuitable`` need both parties (proposed by one, confirmed by the
    other); the client may terminate (``client_terminated``); only the city suspends."""

    model_config = Strict
    kind: Literal["mutual", "unsuitable", "client_terminated", "city_suspension"]
    reason: str = Field(min_length=3, max_length=2000)
    ended_on: Annotated[dt.date, DateRange("AGR-13")] | None = Field(None, description="The last day in force; defaults to today")
    paper: StrictBool = Field(False, description="An official records the client's written notice (client_terminated) or agreement")


class EndAnswerIn(BaseModel):
    model_config = Strict
    agree: StrictBool
    comment: str | None = Field(None, max_length=2000)
    paper: StrictBool = Field(False, description="An official records the client's answer given on paper")


class ContactIn(BaseModel):
    """VOU-3: the client contacted the provider about the voucher (within 7 days of receiving the decision)."""

    model_config = Strict
    voucher_number: str = Field(max_length=30)
    contacted_on: Annotated[dt.date, DateRange("VOU-3")] | None = Field(None, description="Defaults to today")


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
    schedule_from: dt.date | None = None
    earlier_schedules: list[dict[str, Any]] = []


class ChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    agreement_id: uuid.UUID
    kind: str
    state: str
    effective_from: dt.date
    end: dt.date | None
    schedule: list[dict[str, str]] | None
    goals: str | None
    tasks: list[str] | None
    reduction_reason: str | None
    responsible_signature: dict[str, Any] | None
    client_signature: dict[str, Any] | None
    agreed_on: dt.date | None


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
    instructor_signature: dict[str, Any] | None = None
    signed_on: dt.date | None
    end_proposal: dict[str, Any] | None = None
    approved_hours: int | None = Field(None, description="Intensive-coaching hours approved in the decision (VOU-7)")
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
    redacted: bool = Field(False, description="The agreement has ended: the provider sees only what billing and reports need (DATA-2)")


class DeadlineOut(BaseModel):
    kind: Literal["contact_provider", "service_start", "signing", "evaluation", "period_end"]
    rule: str
    due: dt.date
    overdue: bool
    client_id: uuid.UUID
    voucher_id: uuid.UUID
    agreement_id: uuid.UUID | None = None
    detail: str
