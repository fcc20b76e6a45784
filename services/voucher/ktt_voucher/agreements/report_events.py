"""What the voucher service learns from the attendance service's report events: an interim, final
or group evaluation delivered closes its period's evaluation deadline in the deadlines view (REP-3,
REP-4, REP-6); a returned one reopens it until it comes again.

Safe to run twice and in any order: each period remembers the event time of the fact it holds, and
an older fact handled late changes nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.events import Envelope
from ktt_common.inbox import Subscription
from ktt_contracts.reports import (
    ReportAccepted,
    ReportAcceptedPayload,
    ReportFacts,
    ReportReturned,
    ReportReturnedPayload,
    ReportSubmitted,
    ReportSubmittedPayload,
)

from ktt_voucher.agreements.models import AgreementPeriod

from_attendance = Subscription(producer="attendance")

EVALUATIONS = frozenset({"interim_evaluation", "final_evaluation", "group_evaluation"})


async def _period(session: AsyncSession, p: ReportFacts) -> AgreementPeriod | None:
    """The period the evaluation is about: its ``period_id``, or for a final one without it the
    agreement's last period."""
    q = select(AgreementPeriod).where(AgreementPeriod.agreement_id == p.agreement_id)
    if p.period_id is not None:
        q = q.where(AgreementPeriod.id == p.period_id)
    elif p.kind == "interim_evaluation":
        return None
    rows = (await session.execute(q.order_by(AgreementPeriod.seq.desc()).limit(1).with_for_update())).scalars().all()
    return rows[0] if rows else None


async def _delivered(session: AsyncSession, envelope: Envelope, p: ReportFacts, on: dt.date | None) -> None:
    if p.kind not in EVALUATIONS:
        return
    period = await _period(session, p)
    if period is None or (period.evaluation_facts_at is not None and envelope.time < period.evaluation_facts_at):
        return
    period.evaluation_delivered_on = on
    period.evaluation_facts_at = envelope.time


@from_attendance.on(ReportSubmitted)
async def on_report_submitted(session: AsyncSession, envelope: Envelope, p: ReportSubmittedPayload) -> None:
    """REP-3 / REP-4: the evaluation arrived: its deadline is met."""
    await _delivered(session, envelope, p, p.submitted_on)


@from_attendance.on(ReportAccepted)
async def on_report_accepted(session: AsyncSession, envelope: Envelope, p: ReportAcceptedPayload) -> None:
    period = await _period(session, p) if p.kind in EVALUATIONS else None
    await _delivered(session, envelope, p, (period.evaluation_delivered_on if period else None) or p.accepted_on)


@from_attendance.on(ReportReturned)
async def on_report_returned(session: AsyncSession, envelope: Envelope, p: ReportReturnedPayload) -> None:
    """REP-1: a returned evaluation is owed again: the deadline reopens."""
    await _delivered(session, envelope, p, None)


SUBSCRIPTIONS = [from_attendance]
