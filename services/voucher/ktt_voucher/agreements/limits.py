"""What a new agreement must fit in: the client's other agreements (AGR-18, AGR-10, AGR-6, AGR-11),
a place in the unit (PRV-6, PRV-7) and the provider's insurance (PRV-10); and a provider's
justified refusal of a client (AGR-15)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.clock import utc_now
from ktt_common.errors import FieldError, Forbidden
from ktt_common.outbox import emit
from ktt_contracts.agreement import ClientRefusedByProvider, ClientRefusedByProviderPayload

from ktt_voucher.agreements import rules as ar
from ktt_voucher.agreements.models import (
    Agreement,
    AgreementNotification,
    CapacityCopy,
    ProviderCopy,
    ProviderRefusal,
    QueueCopy,
    UnitCopy,
)
from ktt_voucher.agreements.reading import _today, client_agreements, periods_by_agreement, projected_days
from ktt_voucher.agreements.schemas import RefusalIn
from ktt_voucher.vouchers import service as voucher_service


def insurance_problem(provider: ProviderCopy | None, on: dt.date, field: str = "body.unit_id") -> FieldError | None:
    """PRV-10: a provider whose liability insurance has lapsed takes no new agreements."""
    if provider is None:
        return None
    lapsed = provider.insurance_lapsed_on is not None or (
        provider.insurance_valid_until is not None and provider.insurance_valid_until < on)
    if lapsed:
        return FieldError(field=field, rule="PRV-10",
                          message="the provider's liability insurance is not valid; no new agreements until it is renewed")
    return None


async def place_verdict(session: AsyncSession, unit_id: uuid.UUID, product_id: uuid.UUID, client_id: uuid.UUID,
                        form: str, field: str = "body.unit_id") -> FieldError | None:
    """PRV-6 / PRV-7: an individual place needs a free place not claimed by clients ahead in the
    unit's queue. The registry's figures are a copy: agreements signed here after that copy are
    taken off its free places, so two signings before the registry catches up cannot both take the
    last place."""
    if form != "individual":
        return None  # group places are enrolled by the group (decision of 2026-11-30)
    capacity = await session.get(CapacityCopy, unit_id)
    if capacity is None:
        return None
    signed_since = (await session.execute(select(func.count()).select_from(Agreement).where(
        Agreement.unit_id == unit_id, Agreement.form == "individual", Agreement.state.in_(ar.IN_FORCE_STATES),
        Agreement.signed_at > capacity.event_time,
    ))).scalar_one()
    free = capacity.free_places - signed_since if capacity.taking_clients else 0
    # PRV-7: individual KTT, assessment periods and intensive coaching share the unit's places, so the
    # clients ahead are counted across the unit's queues by the registry's unit-wide rank.
    queues = (await session.execute(select(QueueCopy).where(QueueCopy.unit_id == unit_id))).scalars().all()
    ranks: dict[str, int] = {}
    for queue in queues:
        ranks.update(queue.unit_ranks or ({c: i + 1 for i, c in enumerate(queue.client_ids)}
                                         if queue.product_id == product_id else {}))
    mine = ranks.get(str(client_id))
    ahead = mine - 1 if mine is not None else len(ranks)
    problem = ar.place_problem(free, ahead)
    return FieldError(field=field, rule="PRV-7" if free > 0 else "PRV-6", message=problem) if problem else None



async def check_in_force(session: AsyncSession, *, client_id: uuid.UUID, provider_id: str, start: dt.date, end: dt.date,
                         weekdays: set[str], exclude: uuid.UUID | None = None) -> tuple[list[FieldError], list[Agreement]]:
    """AGR-18: what a new agreement of the client over [start, end] would mean. Returns the
    refusals and the agreements it replaces: another provider's agreement in force on those days
    ends the day before the new start (AGR-8); the same provider's is continued, not duplicated
    (AGR-10). The weekly limit and the 230 days hold across the client's agreements."""
    errors: list[FieldError] = []
    replaced: list[Agreement] = []
    others = await client_agreements(session, client_id, exclude=exclude)
    periods = await periods_by_agreement(session, [a.id for a in others])
    days = ar.scheduled_days(start, end, weekdays)
    for other in others:
        until = ar.in_force_until(other.state, other.end_date, other.ended_on)
        if ar.overlap(other.start_date, until, start, end):
            if other.provider_id == provider_id:
                errors.append(FieldError(field="body.start_date", rule="AGR-10",
                                         message=f"the client's agreement {other.id} with you is in force until {until}; "
                                                 "agree a continuation or a review instead, or start after it"))
                continue
            replaced.append(other)
            until = ar.replacement_end(start)
        days += projected_days(periods[other.id], until)
    weekly = ar.days_per_week_problem(days)
    if weekly:
        errors.append(weekly)
    cap = ar.check_230_days(days)
    if cap:
        errors.append(cap)
    return errors, replaced


async def refuse_client(session: AsyncSession, body: RefusalIn, principal: Principal) -> ProviderRefusal:
    voucher = await voucher_service.voucher_by_number(session, body.voucher_number)
    if body.unit_id:
        unit = await session.get(UnitCopy, body.unit_id)
        if unit is None or unit.provider_id != principal.provider_id:
            raise Forbidden("the unit must be your own provider's (DATA-3)", rule="DATA-3")
    today = _today(session)
    refusal = ProviderRefusal(
        id=uuid.uuid4(), voucher_id=voucher.id, client_id=voucher.client_id, provider_id=principal.provider_id or "",
        unit_id=body.unit_id, reason=body.reason, refused_on=today, created_by=principal.subject, created_at=utc_now(),
    )
    session.add(refusal)
    session.add(AgreementNotification(
        voucher_id=voucher.id, client_id=voucher.client_id, recipient="typake", kind="client_refused",
        message=f"Provider {principal.provider_id} refused the client: {body.reason} (AGR-15)", created_at=utc_now(),
    ))
    await emit(session, ClientRefusedByProvider, ClientRefusedByProviderPayload(
        refusal_id=refusal.id, voucher_id=voucher.id, client_id=voucher.client_id, provider_id=refusal.provider_id,
        unit_id=body.unit_id, reason=body.reason, refused_on=today), subject=str(voucher.id))
    await audit(session, principal, "agreement.refuse_client", "voucher", voucher.id, client_ids=[voucher.client_id])
    return refusal
