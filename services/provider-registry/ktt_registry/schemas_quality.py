"""Request and response models of subcontractors, feedback and quality (PRV-9, PRV-12, QUA-1, QUA-2)
and the approved list for the TE office (PRV-15)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from ktt_common.bounds import BoundedDate, Strict

from ktt_registry.schemas import Out

# --- subcontractors -----------------------------------------------------------------------------

class SubcontractorIn(BaseModel):
    model_config = Strict
    name: str = Field(min_length=1, max_length=200)
    business_id: str = Field(min_length=1, max_length=20)
    services: str = Field(min_length=3, max_length=4000, description="What the subcontractor does")
    engaged_by_subcontractor_id: uuid.UUID | None = Field(
        None, description="Set when one of the provider's subcontractors would engage this one: always refused (PRV-9)")


class ForbidIn(BaseModel):
    model_config = Strict
    reason: str = Field(min_length=3, max_length=4000)


class SubcontractorOut(BaseModel):
    model_config = Out
    id: uuid.UUID
    provider_id: str
    name: str
    business_id: str
    services: str
    status: str
    forbidden_reason: str | None
    forbidden_on: dt.date | None
    declared_on: dt.date


# --- feedback and quality ----------------------------------------------------------------------

FeedbackKind = Literal["feedback", "complaint", "survey", "incident_report", "reminder", "ombudsman_complaint", "formal_complaint"]


class FeedbackIn(BaseModel):
    model_config = Strict
    kind: FeedbackKind = Field(description=(
        "ombudsman_complaint: a complaint to the social ombudsman; formal_complaint: a kantelu to AVI or Valvira "
        "(both recorded by officials, QUA-2)"))
    unit_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = Field(None, description="Pseudonymous; a client token's own id is used for clients")
    rating: int | None = Field(None, strict=True, ge=1, le=5)
    comment: str | None = Field(None, max_length=8000)
    received_on: BoundedDate | None = Field(None, description="When the provider received it directly (forwarded, PRV-12)")


class FeedbackStatusIn(BaseModel):
    model_config = Strict
    status: Literal["being_handled", "resolved"]
    resolution: str | None = Field(None, max_length=8000)


class FeedbackOut(BaseModel):
    model_config = Out
    id: uuid.UUID
    provider_id: str
    unit_id: uuid.UUID | None
    client_id: uuid.UUID | None
    kind: str
    channel: str
    rating: int | None
    comment: str | None
    status: str | None
    resolution: str | None
    received_on: dt.date
    resolved_on: dt.date | None


class QualityOut(BaseModel):
    provider_id: str
    period_from: dt.date
    period_to: dt.date
    feedback_count: int
    average_rating: Decimal | None
    ratings: int
    complaints: int
    complaints_by_status: dict[str, int]
    incident_reports: int
    reminders: int
    forwarded_by_provider: int
    ombudsman_complaints: int = Field(description="Complaints to the social ombudsman (QUA-2)")
    formal_complaints: int = Field(description="Formal complaints, kantelu (QUA-2)")
    spot_checks: int = Field(description="The city's spot checks of the premises (QUA-2)")
    visits: int = Field(description="The city's visits to the premises (QUA-2)")
    client_panels: int = Field(description="Client panels that dealt with the provider (QUA-2)")
    self_monitoring_plans_received: int = Field(description="Self-monitoring plans received in the period (QUA-2)")
    annual_reports_received: int = Field(description="Annual reports received in the period (QUA-2)")
    latest_self_monitoring_plan_on: dt.date | None = Field(description="When the newest plan up to the period's end was received")
    latest_annual_report_year: int | None = Field(description="Year of the newest annual report received by the period's end")


QualityRecordKind = Literal["spot_check", "visit", "client_panel", "self_monitoring_plan", "annual_report"]


class QualityRecordIn(BaseModel):
    """QUA-2: a spot check or visit to the premises, a client panel, or a self-monitoring plan or annual report received."""

    model_config = Strict
    kind: QualityRecordKind
    occurred_on: BoundedDate | None = Field(None, description=(
        "The check, visit or panel date, or the day the plan or report was received; default today"))
    unit_id: uuid.UUID | None = Field(None, description="The unit visited, if one")
    year: int | None = Field(None, strict=True, ge=2000, le=2100, description="The year an annual report covers")
    summary: str | None = Field(None, max_length=8000, description="Findings, remarks or topics")
    participants: int | None = Field(None, strict=True, ge=1, le=1000, description="Clients taking part in a client panel")


class QualityRecordOut(BaseModel):
    model_config = Out
    id: uuid.UUID
    provider_id: str
    unit_id: uuid.UUID | None
    kind: str
    occurred_on: dt.date
    year: int | None
    summary: str | None
    participants: int | None
    recorded_by: str


# --- the approved list (PRV-15) ----------------------------------------------------------------

class ApprovedUnit(BaseModel):
    unit_id: uuid.UUID
    name: str
    street_address: str
    postal_code: str
    city: str
    service_producer_code: str


class ApprovedProvider(BaseModel):
    """One provider on the approved list given to the TE office (PRV-15)."""

    provider_id: str
    name: str
    business_id: str
    legal_form: str
    approved_on: dt.date = Field(description="When it was (last) approved or reinstated, i.e. since when it is on the list")
    first_approved_on: dt.date = Field(description="When it was first approved")
    email: str | None
    phone: str | None
    website: str | None
    units: list[ApprovedUnit]
