"""The facts other services publish that are refusals or interruptions of KTT for the case worker
(DEC-9). From the voucher service: a voucher delayed past the VOU-3 deadlines or expired unused
(not started), an agreement ended early as unsuitable, mutually or by the client (interrupted). A
refused voucher (VOU-4) is the client's right and is not consumed. From the attendance service:
unauthorised absences (ATT-7).

Every handler is safe to run twice: the inbox drops a redelivered event, and the natural keys (one
flag per source event and per fact) drop a re-published one. Which facts are refusals is decided by
the pure functions in ``flags/rules.py``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.db import insert_for
from ktt_common.events import Envelope
from ktt_common.logging import get_logger
from ktt_common.outbox import runtime_of
from ktt_contracts.agreement import AgreementEnded, AgreementEndedPayload
from ktt_contracts.attendance import AbsenceReported, AbsenceReportedPayload
from ktt_contracts.voucher import VoucherStateChanged, VoucherStateChangedPayload

from ktt_decision.flags import rules
from ktt_decision.flags.models import AbsenceRevision, ClientFlag
from ktt_decision.subscriptions import from_attendance, from_voucher

log = get_logger(__name__)



@from_voucher.on(VoucherStateChanged)
async def on_voucher_state_changed(session: AsyncSession, envelope: Envelope, payload: VoucherStateChangedPayload) -> None:
    """DEC-9 / VOU-3: a voucher delayed past the deadlines, or expired without ever being used,
    means the client did not start KTT: recorded for the case worker, who assesses whether there
    was a valid reason (§9.5). Other states (in use, cancelled) are no refusal."""
    verdict = rules.voucher_state_flag(payload.state, payload.previous_state)
    if verdict is None:
        return
    kind, reason = verdict
    await record_flag(
        session, envelope, client_id=payload.client_id, kind=kind, occurred_on=payload.changed_on, reason=reason,
        voucher_id=payload.voucher_id, decision_id=payload.decision_id,
        source_key=f"voucher:{payload.voucher_id}:{payload.state}",
        details={"voucher_number": payload.number, "state": payload.state, "previous_state": payload.previous_state,
                 "voucher_reason": payload.reason},
    )


@from_voucher.on(AgreementEnded)
async def on_agreement_ended(session: AsyncSession, envelope: Envelope, payload: AgreementEndedPayload) -> None:
    """DEC-9 / AGR-13: an agreement ended early as unsuitable, by mutual decision or by the client is
    an interruption for the case worker to assess. A fixed term, a change of provider, a revoked or
    shortened decision or a removed provider are not (rules.agreement_end_flag)."""
    kind = rules.agreement_end_flag(payload.kind)
    if kind is None:
        return
    await record_flag(
        session, envelope, client_id=payload.client_id, kind=kind, occurred_on=payload.ended_on,
        reason=f"the agreement ended early ({payload.kind})" + (f": {payload.reason}" if payload.reason else ""),
        voucher_id=payload.voucher_id, source_key=f"agreement:{payload.agreement_id}:ended",
        details={"agreement_id": str(payload.agreement_id), "provider_id": payload.provider_id,
                 "end_kind": payload.kind, "end_reason": payload.reason, "early": payload.early},
    )


@from_attendance.on(AbsenceReported)
async def on_absence_reported(session: AsyncSession, envelope: Envelope, payload: AbsenceReportedPayload) -> None:
    """DEC-9 / ATT-7: an unauthorised absence on an activity day is recorded for the case worker;
    illness with a certificate never is (ATT-3). One flag per daily-log entry: a correction (a
    higher revision) updates it, or clears it when the absence became authorised; a revision not
    above the latest seen changes nothing."""
    if not await _newer_revision(session, payload):
        log.info("absence_revision_not_newer", entry_id=str(payload.entry_id), revision=payload.revision)
        return
    kind = rules.absence_flag(payload.reason, payload.authorised)
    key = f"absence:{payload.entry_id}"
    details = {"entry_id": str(payload.entry_id), "agreement_id": str(payload.agreement_id),
               "provider_id": payload.provider_id, "absence_reason": payload.reason, "certificate": payload.certificate,
               "authorised": payload.authorised, "same_day_contact": payload.same_day_contact,
               "revision": payload.revision}
    reason = f"ATT-7: absent on an activity day without an authorised reason ({payload.reason})"
    flag = (await session.execute(select(ClientFlag).where(ClientFlag.source_key == key).with_for_update())).scalar_one_or_none()
    if flag is None:
        if kind is not None:
            await record_flag(session, envelope, client_id=payload.client_id, kind=kind, occurred_on=payload.date,
                              reason=reason, source_key=key, details=details)
        return
    if kind is not None:  # still unauthorised after the correction: the one flag shows the latest revision
        flag.occurred_on, flag.reason, flag.details = payload.date, reason, details
        flag.cleared_on = flag.cleared_reason = None
        action = "client_flag.update"
    else:
        flag.details = details
        flag.cleared_on = runtime_of(session).clock.today()
        flag.cleared_reason = (f"revision {payload.revision} of the daily-log entry records the absence as authorised "
                               f"({payload.reason})")
        action = "client_flag.clear"
    await audit(session, "decision-service", action, "client", flag.client_id, client_ids=[flag.client_id],
                details={"flag_id": str(flag.id), "event_id": envelope.id, "revision": payload.revision})


async def _newer_revision(session: AsyncSession, payload: AbsenceReportedPayload) -> bool:
    """Remember the entry's latest revision; False when this one is not newer than what was seen."""
    seen = await session.get(AbsenceRevision, payload.entry_id, with_for_update=True, populate_existing=True)
    if seen is None:
        try:
            async with session.begin_nested():
                session.add(AbsenceRevision(entry_id=payload.entry_id, client_id=payload.client_id,
                                            revision=payload.revision, authorised=payload.authorised,
                                            seen_at=dt.datetime.now(dt.UTC)))
            return True
        except IntegrityError:  # another instance handled a revision of the entry concurrently
            seen = await session.get(AbsenceRevision, payload.entry_id, with_for_update=True, populate_existing=True)
            assert seen is not None
    if seen.revision >= payload.revision:
        return False
    seen.revision, seen.authorised, seen.seen_at = payload.revision, payload.authorised, dt.datetime.now(dt.UTC)
    return True


async def record_flag(session: AsyncSession, envelope: Envelope, *, client_id: uuid.UUID, kind: str,
                      occurred_on: dt.date, reason: str | None, voucher_id: uuid.UUID | None = None,
                      decision_id: uuid.UUID | None = None, source_key: str | None = None,
                      details: dict[str, Any] | None = None) -> None:
    """One DEC-9 record per source event, and per fact when ``source_key`` names it (the same fact
    published again under a new event id adds nothing)."""
    result = await session.execute(
        insert_for(session, ClientFlag).values(
            id=uuid.uuid4(), client_id=client_id, kind=kind, occurred_on=occurred_on, source_event_id=envelope.id,
            source_event_type=envelope.type, source_key=source_key, voucher_id=voucher_id, decision_id=decision_id,
            reason=reason, details=details or {}, created_at=dt.datetime.now(dt.UTC),
        ).on_conflict_do_nothing()
    )
    if cast("CursorResult[Any]", result).rowcount == 1:
        await audit(session, "decision-service", "client_flag.create", "client", client_id, client_ids=[client_id],
                    details={"kind": kind, "event_id": envelope.id})
    else:
        log.info("client_flag_exists", kind=kind, event_id=envelope.id, source_key=source_key)
