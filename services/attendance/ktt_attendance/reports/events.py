"""What reports learn from the voucher service: PeriodEnding makes the interim or final evaluation
due a week before the period ends (REP-3, REP-4; a group client's final one is the group evaluation
with its plan, REP-6). Safe to run twice: the report is a unique row per agreement and key."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.events import Envelope
from ktt_contracts.agreement import PeriodEnding, PeriodEndingPayload

from ktt_attendance.agreements.events import from_voucher
from ktt_attendance.agreements.models import AgreementCopy
from ktt_attendance.months.rules import month_of
from ktt_attendance.reports import rules
from ktt_attendance.reports.service import ensure_due


@from_voucher.on(PeriodEnding)
async def on_period_ending(session: AsyncSession, envelope: Envelope, payload: PeriodEndingPayload) -> None:
    copy = await session.get(AgreementCopy, payload.agreement_id)
    kind = rules.evaluation_kind(payload.evaluation_kind == "final", copy.form if copy else None)
    await ensure_due(session, agreement_id=payload.agreement_id, kind=kind, client_id=payload.client_id,
                     provider_id=payload.provider_id, unit_id=copy.unit_id if copy else None,
                     month=month_of(payload.period_end), period_id=payload.period_id,
                     due_on=rules.evaluation_due(payload.period_end), on=envelope.time.date(),
                     by=f"event:{PeriodEnding.name}")
