"""Use cases on agreements: deviations from the schedule recorded beforehand (AGR-14)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.errors import Conflict, FieldError, RuleViolation
from ktt_common.identifiers import contains_hetu
from ktt_common.outbox import runtime_of

from ktt_attendance.access import visible_agreement
from ktt_attendance.agreements import rules
from ktt_attendance.agreements.models import Deviation
from ktt_attendance.agreements.schemas import DeviationIn


async def record_deviation(session: AsyncSession, agreement_id: uuid.UUID, body: DeviationIn,
                           principal: Principal) -> tuple[Deviation, bool]:
    """AGR-14: a pre-agreed deviation (group coaching, a job interview...) recorded before the day.
    The same deviation again changes nothing (returns created=False); another one for the same
    day is a conflict."""
    copy = await visible_agreement(session, principal, agreement_id, for_update=True)
    today = runtime_of(session).clock.today()
    if contains_hetu(body.reason):
        raise RuleViolation("free text may not hold a personal identity code", rule="DATA-4",
                            errors=[FieldError(field="body.reason", rule="DATA-4", message="remove the personal identity code")])
    existing = (await session.execute(
        select(Deviation).where(Deviation.agreement_id == copy.agreement_id, Deviation.date == body.date)
    )).scalar_one_or_none()
    if existing is not None:
        if (existing.kind, existing.reason) == (body.kind, body.reason):
            return existing, False
        raise Conflict(f"a {existing.kind} deviation is already recorded for {body.date}", rule="AGR-14")
    problem = rules.deviation_problem(body.date, today, copy.start, copy.last_day)
    if problem:
        raise RuleViolation(problem, rule="AGR-14", errors=[FieldError(field="body.date", rule="AGR-14", message=problem)])
    deviation = Deviation(id=uuid.uuid4(), agreement_id=copy.agreement_id, date=body.date, kind=body.kind, reason=body.reason,
                          recorded_on=today, recorded_by=principal.subject, created_at=dt.datetime.now(dt.UTC))
    session.add(deviation)
    await audit(session, principal, "deviation.create", "agreement", copy.agreement_id, client_ids=[copy.client_id],
                details={"date": body.date.isoformat(), "kind": body.kind})
    return deviation, True


async def list_deviations(session: AsyncSession, agreement_id: uuid.UUID, principal: Principal) -> list[Deviation]:
    copy = await visible_agreement(session, principal, agreement_id)
    rows = (await session.execute(
        select(Deviation).where(Deviation.agreement_id == copy.agreement_id).order_by(Deviation.date)
    )).scalars().all()
    await audit(session, principal, "deviation.list", "agreement", copy.agreement_id, client_ids=[copy.client_id])
    return list(rows)
