"""What the voucher service consumes: its explicit event -> handler map."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.events import Envelope
from ktt_common.inbox import Subscription
from ktt_common.outbox import emit
from ktt_contracts.decision import DecisionMade, DecisionMadePayload
from ktt_contracts.voucher import VoucherIssued, VoucherIssuedPayload

from ktt_voucher.models import Voucher
from ktt_voucher.rules import new_voucher_number

from_decision = Subscription(producer="decision")


@from_decision.on(DecisionMade)
async def on_decision_made(session: AsyncSession, envelope: Envelope, payload: DecisionMadePayload) -> None:
    """DEC-1 / VOU-1: exactly one voucher per decision, valid inside the decision period."""
    if (await session.execute(select(Voucher.id).where(Voucher.decision_id == payload.decision_id))).first():
        return  # issued already (a replayed decision under a new event id)
    now = dt.datetime.now(dt.UTC)
    for _attempt in range(5):
        voucher = Voucher(
            id=uuid.uuid4(), number=new_voucher_number(), decision_id=payload.decision_id, client_id=payload.client_id,
            type=payload.voucher_kind, state="issued", valid_from=payload.period_start, valid_to=payload.period_end,
            created_at=now, updated_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(voucher)
            break
        except IntegrityError:
            continue  # a number collision (1 in 10^12): draw another
    else:
        raise RuntimeError("could not draw a unique voucher number")
    await emit(session, VoucherIssued, VoucherIssuedPayload(
        voucher_id=voucher.id, number=voucher.number, decision_id=voucher.decision_id, client_id=voucher.client_id,
        type=voucher.type, state=voucher.state, valid_from=voucher.valid_from, valid_to=voucher.valid_to,  # type: ignore[arg-type]
    ), subject=str(voucher.id), correlation_id=envelope.correlationid)


SUBSCRIPTIONS = [from_decision]
