"""Disputes: a provider disputes a line of its own settlement (open); a city official accepts or rejects it
with an answer. An accepted dispute is a correction — a refund of the line and a correction line with the
right quantity in the provider's next open settlement — never an edit of the disputed line."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role
from ktt_common.errors import Conflict, InvalidInput, NotFound
from ktt_common.outbox import emit
from ktt_contracts import billing as ev

from ktt_billing.disputes.models import Dispute
from ktt_billing.settlements import rules
from ktt_billing.settlements import service as settlements
from ktt_billing.settlements.models import Settlement, SettlementLine


def _centi(q: Decimal | None) -> int | None:
    return None if q is None else int((q * 100).to_integral_value())


async def open_dispute(session: AsyncSession, settlement_id: uuid.UUID, line_id: uuid.UUID, reason: str,
                       claimed: Decimal | None, who: Principal, today: dt.date) -> Dispute:
    s = await settlements.get(session, settlement_id)
    if who.role is Role.PROVIDER and s.provider_id != who.provider_id:
        raise NotFound(f"no settlement {settlement_id} of yours (DATA-3)", rule="DATA-3")
    line = (await session.execute(select(SettlementLine).where(SettlementLine.id == line_id,
                                                               SettlementLine.settlement_id == s.id))).scalar_one_or_none()
    if line is None:
        raise NotFound(f"settlement {settlement_id} has no line {line_id}")
    pending = (await session.execute(select(Dispute.id).where(Dispute.line_id == line_id, Dispute.state == "open"))).first()
    if pending:
        raise Conflict(f"line {line_id} already has an open dispute {pending[0]}; wait for its answer")
    d = Dispute(id=uuid.uuid4(), settlement_id=s.id, line_id=line.id, provider_id=s.provider_id, reason=reason,
                claimed_quantity_centi=_centi(claimed), state="open", opened_on=today, opened_by=who.subject)
    try:
        async with session.begin_nested():  # a concurrent open of the same line meets the unique index
            session.add(d)
    except IntegrityError:
        raise Conflict(f"line {line_id} already has an open dispute; wait for its answer") from None
    await audit(session, who, "dispute.open", "dispute", d.id, client_ids=[line.client_id])
    return d


async def next_open_settlement(session: AsyncSession, provider_id: str, after_month: str, today: dt.date) -> Settlement:
    """The provider's earliest open settlement after ``after_month``; a new draft for the month after it
    when there is none."""
    s = (await session.execute(select(Settlement).where(
        Settlement.provider_id == provider_id, Settlement.month > after_month, Settlement.state.in_(rules.OPEN_STATES))
        .order_by(Settlement.month).limit(1))).scalar_one_or_none()
    if s is not None:
        return s
    first, _ = rules.parse_month(after_month)
    month = rules.month_str(rules.next_month_first(first))
    while (await session.execute(select(Settlement.id).where(Settlement.provider_id == provider_id,
                                                             Settlement.month == month))).first():
        month = rules.month_str(rules.next_month_first(rules.parse_month(month)[0]))
    seq = await settlements._next_seq(session)
    s = Settlement(id=uuid.uuid4(), provider_id=provider_id, month=month, state="draft", held=False, hold_reasons=[],
                   total_cents=0, reference=rules.finnish_reference(seq), seq=seq, created_on=today, computed_on=today)
    session.add(s)
    await session.flush()
    await emit(session, ev.InvoiceCreated, {**settlements.facts(s, 0), "created_on": today}, subject=str(s.id))
    return s


async def resolve(session: AsyncSession, dispute_id: uuid.UUID, outcome: str, answer: str,
                  corrected: Decimal | None, who: Principal, today: dt.date) -> Dispute:
    d = (await session.execute(select(Dispute).where(Dispute.id == dispute_id).with_for_update())).scalar_one_or_none()
    if d is None:
        raise NotFound(f"no dispute {dispute_id}")
    if d.state != "open":
        raise Conflict(f"dispute {dispute_id} was already {d.state} on {d.resolved_on}")
    line = (await session.execute(select(SettlementLine).where(SettlementLine.id == d.line_id))).scalar_one()
    source = await settlements.get(session, d.settlement_id)
    d.state, d.answer, d.resolved_on, d.resolved_by = outcome, answer, today, who.subject
    if outcome == "accepted":
        quantity = _centi(corrected) if corrected is not None else d.claimed_quantity_centi
        if quantity is None:
            raise InvalidInput("an accepted dispute needs corrected_quantity (the provider claimed none)")
        d.corrected_quantity_centi = quantity
        target = await next_open_settlement(session, d.provider_id, source.month, today)
        common = {"settlement_id": target.id, "client_id": line.client_id, "agreement_id": line.agreement_id, "basis": line.basis,
                      "service_month": line.service_month, "date_from": line.date_from, "date_to": line.date_to,
                      "unit_value_cents": line.unit_value_cents, "origin": "dispute", "dispute_id": d.id}
        refund = SettlementLine(id=uuid.uuid4(), kind=rules.REFUND, quantity_centi=-line.quantity_centi,
                                amount_cents=-line.amount_cents, cause=f"dispute {d.id} accepted: the line is refunded",
                                **common)
        fix = SettlementLine(id=uuid.uuid4(), kind=rules.CORRECTION, quantity_centi=quantity,
                             amount_cents=rules.amount_cents(quantity, line.unit_value_cents),
                             cause=f"dispute {d.id} accepted: {answer}"[:300], **common)
        session.add_all([refund, fix])
        target.total_cents += refund.amount_cents + fix.amount_cents
        d.correction_settlement_id = target.id
        await session.flush()
        await settlements.evaluate_holds(session, [target], today)
    await emit(session, ev.DisputeResolved, {"dispute_id": d.id, "settlement_id": d.settlement_id, "line_id": d.line_id,
                                                 "provider_id": d.provider_id, "outcome": outcome, "resolved_on": today},
               subject=str(d.id))
    await audit(session, who, f"dispute.{outcome}", "dispute", d.id, client_ids=[line.client_id])
    return d
