"""Quality follow-up (QUA-1, QUA-2): the city's spot checks and visits to the premises, client panels,
the provider's self-monitoring plan and annual report as received, and the per-provider quality
figures officials use, counting these together with feedback and complaints (PRV-12)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role
from ktt_common.errors import Conflict, FieldError, Forbidden, refuse

from ktt_registry import rules_oversight as oversight
from ktt_registry.models import Feedback, QualityRecord, Unit
from ktt_registry.schemas_quality import QualityOut, QualityRecordIn
from ktt_registry.service.common import now, own_provider, today
from ktt_registry.service.feedback import COMPLAINT_STATUSES


async def record(session: AsyncSession, provider_id: str, body: QualityRecordIn, principal: Principal) -> QualityRecord:
    """QUA-2: a city official records a check, visit, panel, or a plan or report received; a provider
    hands in its own self-monitoring plan and annual report (received today)."""
    provider = await own_provider(session, principal, provider_id)
    day = today(session)
    if principal.role is Role.PROVIDER:
        if body.kind not in oversight.PROVIDER_SUBMITTED:
            raise Forbidden(f"a {body.kind.replace('_', ' ')} is recorded by the city", rule="QUA-2")
        if body.occurred_on not in (None, day):
            refuse([FieldError(field="body.occurred_on", rule="QUA-2", message="what a provider hands in is received today")])
    occurred_on = body.occurred_on or day
    errors = oversight.check_quality_record(body.kind, occurred_on, body.year, body.summary, body.participants, day)
    if body.unit_id is not None:
        unit = await session.get(Unit, body.unit_id)
        if unit is None or unit.provider_id != provider.id:
            errors.append(FieldError(field="body.unit_id", message="not a unit of this provider"))
    refuse(errors)
    item = QualityRecord(id=uuid.uuid4(), provider_id=provider.id, unit_id=body.unit_id, kind=body.kind, occurred_on=occurred_on,
                         year=body.year if body.kind == "annual_report" else None, summary=body.summary,
                         participants=body.participants, recorded_by=principal.subject, created_at=now())
    try:
        async with session.begin_nested():
            session.add(item)
    except IntegrityError:
        raise Conflict(f"the annual report for {body.year} has been received already", rule="QUA-2") from None
    await audit(session, principal, f"quality.{body.kind}", "provider", provider.id, details={"id": str(item.id)})
    return item


async def list_records(session: AsyncSession, provider_id: str, principal: Principal, kind: str | None) -> list[QualityRecord]:
    await own_provider(session, principal, provider_id)
    query = select(QualityRecord).where(QualityRecord.provider_id == provider_id).order_by(QualityRecord.occurred_on,
                                                                                          QualityRecord.created_at)
    if kind is not None:
        query = query.where(QualityRecord.kind == kind)
    return list((await session.execute(query)).scalars().all())


async def quality(session: AsyncSession, provider_id: str, period_from: dt.date, period_to: dt.date, principal: Principal) -> QualityOut:
    """QUA-1, QUA-2: per-provider figures over a period: feedback count, average rating, complaints by
    status, incident reports and reminders (PRV-12); complaints to the social ombudsman, formal
    complaints, spot checks, visits, client panels, plans and annual reports received (QUA-2)."""
    if period_to < period_from:
        refuse([FieldError(field="query.to", message="the period ends before it starts")])
    await own_provider(session, principal, provider_id)
    rows = (await session.execute(
        select(Feedback).where(Feedback.provider_id == provider_id, Feedback.received_on >= period_from,
                               Feedback.received_on <= period_to)
    )).scalars().all()
    records = dict((await session.execute(
        select(QualityRecord.kind, func.count()).where(
            QualityRecord.provider_id == provider_id, QualityRecord.occurred_on >= period_from, QualityRecord.occurred_on <= period_to)
        .group_by(QualityRecord.kind)
    )).all())
    latest_plan = (await session.execute(
        select(func.max(QualityRecord.occurred_on)).where(
            QualityRecord.provider_id == provider_id, QualityRecord.kind == "self_monitoring_plan", QualityRecord.occurred_on <= period_to)
    )).scalar_one()
    latest_report = (await session.execute(
        select(func.max(QualityRecord.year)).where(
            QualityRecord.provider_id == provider_id, QualityRecord.kind == "annual_report", QualityRecord.occurred_on <= period_to)
    )).scalar_one()
    ratings = [r.rating for r in rows if r.rating is not None]
    complaints = [r for r in rows if r.kind == "complaint"]
    return QualityOut(
        provider_id=provider_id, period_from=period_from, period_to=period_to,
        feedback_count=sum(1 for r in rows if r.kind in ("feedback", "survey")),
        average_rating=(Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01")) if ratings else None,
        ratings=len(ratings), complaints=len(complaints),
        complaints_by_status={s: sum(1 for c in complaints if c.status == s) for s in COMPLAINT_STATUSES},
        incident_reports=sum(1 for r in rows if r.kind == "incident_report"),
        reminders=sum(1 for r in rows if r.kind == "reminder"),
        forwarded_by_provider=sum(1 for r in rows if r.channel == "provider_forwarded"),
        ombudsman_complaints=sum(1 for r in rows if r.kind == "ombudsman_complaint"),
        formal_complaints=sum(1 for r in rows if r.kind == "formal_complaint"),
        spot_checks=int(records.get("spot_check", 0)), visits=int(records.get("visit", 0)),
        client_panels=int(records.get("client_panel", 0)),
        self_monitoring_plans_received=int(records.get("self_monitoring_plan", 0)),
        annual_reports_received=int(records.get("annual_report", 0)),
        latest_self_monitoring_plan_on=latest_plan, latest_annual_report_year=latest_report,
    )
