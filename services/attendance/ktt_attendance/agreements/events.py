"""Agreement copies from the voucher service's events (AgreementSigned, AgreementChanged,
AgreementEnded, ServiceStarted).

Every handler is safe to run twice: the inbox drops a redelivered event, and a copy applies an
event's facts only when they are not older than the facts it holds: by the agreement's revision
in the producer (issue 12 item 3, ktt_common.revisions), or for events from before revisions by
the producer's event time (on a tie the later-handled event wins, except that AgreementSigned
never overrides an AgreementChanged, which always comes after it). An AgreementEnded seen before
the agreement's signing is kept, so the late signing cannot revive the agreement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.clock import utc_now
from ktt_common.events import Envelope
from ktt_common.inbox import Subscription
from ktt_common.logging import get_logger
from ktt_common.revisions import supersedes
from ktt_contracts.agreement import (
    AgreementChanged,
    AgreementChangedPayload,
    AgreementEnded,
    AgreementEndedPayload,
    AgreementSigned,
    AgreementSignedPayload,
)
from ktt_contracts.voucher import ServiceStarted, ServiceStartedPayload

from ktt_attendance.agreements.models import AgreementCopy

log = get_logger(__name__)

from_voucher = Subscription(producer="voucher")


async def _copy(session: AsyncSession, agreement_id: Any) -> AgreementCopy:
    row = await session.get(AgreementCopy, agreement_id, with_for_update=True)
    if row is None:
        row = AgreementCopy(agreement_id=agreement_id, periods=[], updated_at=utc_now())
        session.add(row)
    return row


def _facts_are_newer(row: AgreementCopy, envelope: Envelope, revision: int | None) -> bool:
    if revision is not None or row.facts_revision is not None:
        return supersedes(revision, envelope.time, row.facts_revision, row.facts_at)
    if row.facts_at is None:
        return True
    if envelope.time > row.facts_at:
        return True
    if envelope.time < row.facts_at:
        return False
    # Same instant: the later-handled event is the later fact, but a signing never follows a change.
    return not (envelope.type == AgreementSigned.type and row.facts_event == AgreementChanged.type)


async def _apply_facts(session: AsyncSession, envelope: Envelope,
                       payload: AgreementSignedPayload | AgreementChangedPayload) -> None:
    row = await _copy(session, payload.agreement_id)
    if not _facts_are_newer(row, envelope, payload.revision):
        log.info("agreement_facts_older_ignored", agreement_id=str(payload.agreement_id), event_type=envelope.type)
        return
    row.client_id, row.provider_id, row.unit_id = payload.client_id, payload.provider_id, payload.unit_id
    row.voucher_id, row.decision_id, row.product_id = payload.voucher_id, payload.decision_id, payload.product_id
    row.product_kind, row.form = payload.product_kind, payload.form
    row.start, row.end = payload.start, payload.end
    row.periods = [p.model_dump(mode="json") for p in payload.periods]
    row.approved_hours = payload.approved_hours
    if isinstance(payload, AgreementSignedPayload):
        row.signed_on = payload.signed_on
    row.facts_at, row.facts_event, row.updated_at = envelope.time, envelope.type, utc_now()
    row.facts_revision = payload.revision


@from_voucher.on(AgreementSigned)
async def on_agreement_signed(session: AsyncSession, envelope: Envelope, payload: AgreementSignedPayload) -> None:
    """AGR-1: the agreement binds from its start; the daily log is checked against its schedule."""
    await _apply_facts(session, envelope, payload)


@from_voucher.on(AgreementChanged)
async def on_agreement_changed(session: AsyncSession, envelope: Envelope, payload: AgreementChangedPayload) -> None:
    """AGR-10 / AGR-12: a continuation or a review: the periods and schedules as they now stand."""
    await _apply_facts(session, envelope, payload)


@from_voucher.on(AgreementEnded)
async def on_agreement_ended(session: AsyncSession, envelope: Envelope, payload: AgreementEndedPayload) -> None:
    """AGR-13 / AGR-8: the agreement binds up to its end day. A later end event (an end moved
    earlier on a change of provider) replaces an earlier one; an older one handled late does not."""
    row = await _copy(session, payload.agreement_id)
    if not supersedes(payload.revision, envelope.time, row.ended_revision, row.ended_at):
        return
    row.client_id = row.client_id or payload.client_id
    row.provider_id = row.provider_id or payload.provider_id
    row.unit_id = row.unit_id or payload.unit_id
    row.voucher_id = row.voucher_id or payload.voucher_id
    row.ended_on, row.end_kind, row.ended_at, row.updated_at = payload.ended_on, payload.kind, envelope.time, utc_now()
    row.ended_revision = payload.revision


@from_voucher.on(ServiceStarted)
async def on_service_started(session: AsyncSession, envelope: Envelope, payload: ServiceStartedPayload) -> None:
    """VOU-3 / DEC-6: the first day of the service (the first scheduled day came)."""
    if payload.agreement_id is None:
        return
    row = await _copy(session, payload.agreement_id)
    row.client_id = row.client_id or payload.client_id
    row.provider_id = row.provider_id or payload.provider_id
    if row.started_on is None or payload.started_on < row.started_on:
        row.started_on = payload.started_on
    row.updated_at = utc_now()


SUBSCRIPTIONS = [from_voucher]
