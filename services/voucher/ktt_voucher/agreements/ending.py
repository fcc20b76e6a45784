"""How agreements end (AGR-13, AGR-8): once, published, Typake told; and how they follow a
shortened decision (AGR-4, DEC-7) or a changed one (VOU-7)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.clock import utc_now
from ktt_common.outbox import emit
from ktt_contracts.agreement import (
    AgreementChanged,
    AgreementChangedPayload,
    AgreementEnded,
    AgreementEndedPayload,
)

from ktt_voucher.agreements import rules as ar
from ktt_voucher.agreements.models import (
    Agreement,
    AgreementNotification,
)
from ktt_voucher.agreements.reading import OPEN_STATES, agreement_facts, periods_of

# --- ending (AGR-13, AGR-8) -----------------------------------------------------------------------

def _ended_payload(agreement: Agreement) -> AgreementEndedPayload:
    assert agreement.ended_on is not None
    return AgreementEndedPayload(
        agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id,
        provider_id=agreement.provider_id, unit_id=agreement.unit_id, ended_on=agreement.ended_on,
        kind=agreement.end_kind, reason=agreement.end_reason, early=agreement.end_kind != "fixed_term")


async def end_agreement(session: AsyncSession, agreement: Agreement, *, kind: str, reason: str | None,
                        ended_on: dt.date, actor: Principal | str) -> bool:
    """End an agreement once (a compare-and-set on its state), publish AgreementEnded and tell Typake.
    A draft is withdrawn instead: it never bound anyone."""
    if agreement.state not in OPEN_STATES:
        return False
    if agreement.state == "draft":
        agreement.state = "withdrawn"
        agreement.end_kind, agreement.end_reason, agreement.ended_on = kind, reason, ended_on
        return True
    result = await session.execute(
        update(Agreement).where(Agreement.id == agreement.id, Agreement.state == agreement.state)
        .values(state="ended", ended_on=ended_on, end_kind=kind, end_reason=reason, end_proposal=None, updated_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    await session.refresh(agreement)
    if cast("CursorResult[Any]", result).rowcount != 1:
        return False
    await emit(session, AgreementEnded, _ended_payload(agreement), subject=str(agreement.id),
        revision_of=f"agreement:{agreement.id}")
    session.add(AgreementNotification(
        agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id, recipient="typake",
        kind="agreement_ended", message=f"Agreement ended on {ended_on}: {kind}" + (f" ({reason})" if reason else "") + " (AGR-13)",
        created_at=utc_now(),
    ))
    actor_name = actor.subject if isinstance(actor, Principal) else actor
    await audit(session, actor if isinstance(actor, Principal) else actor_name, "agreement.end", "agreement", agreement.id,
                client_ids=[agreement.client_id], details={"kind": kind, "reason": reason})
    return True


async def end_open_agreements(session: AsyncSession, where: Any, *, kind: str, reason: str, on: dt.date, actor: str) -> int:
    agreements = (await session.execute(select(Agreement).where(where, Agreement.state.in_(OPEN_STATES)))).scalars().all()
    ended = 0
    for agreement in agreements:
        ended += await end_agreement(session, agreement, kind=kind, reason=reason, ended_on=on, actor=actor)
    return ended


async def publish_changed(session: AsyncSession, where: Any, change: str) -> int:
    """AgreementChanged for every agreement in force matching ``where`` (e.g. VOU-7 hours changed)."""
    agreements = (await session.execute(select(Agreement).where(where, Agreement.state.in_(ar.IN_FORCE_STATES)))).scalars().all()
    for agreement in agreements:
        await emit(session, AgreementChanged, AgreementChangedPayload(
            **(await agreement_facts(session, agreement)), change=change), subject=str(agreement.id),
                revision_of=f"agreement:{agreement.id}")
    return len(agreements)


async def follow_shortened_decision(session: AsyncSession, decision_id: uuid.UUID, new_end: dt.date, *, actor: str) -> int:
    """AGR-4 / DEC-7: an agreement ends at the latest when its decision ends. When an amendment
    moves the decision's end earlier, open agreements are cut to it (periods after it dropped, the
    last one shortened with its evaluation date), or end if they would not start before it;
    the provider and Typake are told."""
    agreements = (await session.execute(select(Agreement).where(
        Agreement.decision_id == decision_id, Agreement.state.in_(OPEN_STATES), Agreement.end_date > new_end,
    ))).scalars().all()
    changed = 0
    for agreement in agreements:
        if agreement.start_date > new_end:
            changed += await end_agreement(session, agreement, kind="decision_shortened",
                                           reason=f"the decision now ends on {new_end}, before this agreement starts",
                                           ended_on=new_end, actor=actor)
            continue
        for period in await periods_of(session, agreement.id):
            if period.start > new_end:
                await session.delete(period)
            elif period.end > new_end:
                period.end, period.evaluation_due = new_end, ar.evaluation_due(new_end)
        agreement.end_date = new_end
        agreement.updated_at = utc_now()
        await session.flush()
        for recipient in ("provider", "typake"):
            session.add(AgreementNotification(
                agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id, recipient=recipient,
                kind="agreement_shortened", message=f"The decision was amended to end on {new_end}; the agreement ends then too (AGR-4)",
                created_at=utc_now(),
            ))
        if agreement.state != "draft":
            await emit(session, AgreementChanged, AgreementChangedPayload(
                **(await agreement_facts(session, agreement)), change="decision_shortened"), subject=str(agreement.id),
                    revision_of=f"agreement:{agreement.id}")
        changed += 1
    return changed


