"""Request and response models of reports and evaluations (REP-1). Every kind's fields are optional
here: what a kind requires is a rule (rules.missing_fields), so one 422 lists all that is missing."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ktt_common.bounds import BoundedDate
from ktt_contracts.reports import MONTH_PATTERN, ReportKind

Text = Annotated[str, Field(max_length=10_000)]
NextService = Literal["work_trial", "pay_subsidised_work", "education", "rehabilitative_work_elsewhere", "other"]


class FollowUpPlanIn(BaseModel):
    """REP-4 / REP-6: the next service, where, to whom and when the client goes."""

    model_config = ConfigDict(extra="forbid")

    next_service: NextService | None = None
    where: Annotated[str, Field(max_length=300)] | None = None
    to_whom: Annotated[str, Field(max_length=300)] | None = None
    when: BoundedDate | None = None
    how: Text | None = None


class CoachingHourIn(BaseModel):
    """VOU-7: one day of intensive coaching, its hours and content."""

    model_config = ConfigDict(extra="forbid")

    date: BoundedDate
    hours: Decimal = Field(gt=0, le=12, max_digits=4, decimal_places=2)
    content: Annotated[str, Field(min_length=1, max_length=2000)]


class PaperSignatureIn(BaseModel):
    """REP-2: the client signed the report on paper on this day."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["paper"] = "paper"
    signed_on: BoundedDate


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agreement_id: uuid.UUID
    kind: ReportKind
    month: Annotated[str, Field(pattern=MONTH_PATTERN)] | None = Field(None, description="monthly_follow_up, coaching_hours")
    period_id: uuid.UUID | None = Field(None, description="interim_evaluation (and optionally final/group evaluations)")
    assessment: Text | None = Field(None, description="monthly_follow_up: how the client is doing (ATT-11)")
    progress: Text | None = Field(None, description="interim_evaluation (REP-3)")
    next_period_goals: Text | None = Field(None, description="interim_evaluation: the continuation's goals (AGR-10)")
    goals: Text | None = Field(None, description="final_evaluation (REP-4)")
    results: Text | None = None
    strengths: Text | None = None
    development_areas: Text | None = None
    methods: list[Annotated[str, Field(max_length=100)]] | None = Field(None, max_length=20,
                                                                        description="e.g. Imba, Melba, VAT, Kykyviisari")
    follow_up_plan: FollowUpPlanIn | None = Field(None, description="final_evaluation, group_evaluation (REP-4, REP-6)")
    hours: list[CoachingHourIn] | None = Field(None, max_length=31, description="coaching_hours (VOU-7)")
    justification: Text | None = Field(None, description="assessment_period (VOU-8)")
    content: Text | None = None
    findings: Text | None = None
    functional_capacity: Text | None = Field(None, description="group_evaluation (REP-6)")
    work_readiness: Text | None = None
    work_cards: list[Annotated[str, Field(max_length=200)]] | None = Field(
        None, max_length=20, description="Work cards earned (REP-5), shown on the certificate")
    signature: PaperSignatureIn | None = Field(None, description="REP-2: signed on paper; or the client signs later")

    def fields(self) -> dict[str, Any]:
        """The kind's content as stored (JSON), without the placing and signature fields."""
        return self.model_dump(mode="json", exclude_none=True,
                               exclude={"agreement_id", "kind", "month", "period_id", "signature"})


class SignatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signed_on: BoundedDate | None = Field(None, description="Provider: the day the client signed on paper (required). "
                                                        "The client signing with their own login: today")


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Annotated[str, Field(min_length=1, max_length=5000)]


class HistoryOut(BaseModel):
    at: dt.datetime
    on: dt.date
    action: str
    state: str
    by: str
    comment: str | None = None


class ReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    agreement_id: uuid.UUID
    kind: str
    state: str
    client_id: uuid.UUID
    provider_id: str
    unit_id: uuid.UUID | None
    month: str | None
    period_id: uuid.UUID | None
    due_on: dt.date | None
    late: bool
    content: dict[str, Any] | None
    realised_days: int | None = Field(None, description="Realised days from the daily log (ATT-11, REP-5)")
    signature: dict[str, Any] | None
    recipients: list[str]
    submitted_on: dt.date | None
    accepted_on: dt.date | None
    returned_comment: str | None
    history: list[HistoryOut]


class ReportPage(BaseModel):
    items: list[ReportOut]
    total: int
    limit: int
    offset: int
