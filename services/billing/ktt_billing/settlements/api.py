"""Settlement endpoints: list and read (a provider sees its own only, DATA-3) and approve (city official)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role
from ktt_common.deps import RuntimeDep, SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, NotFound

from ktt_billing.access import provider_scope
from ktt_billing.policy import authorize
from ktt_billing.settlements import rules, service
from ktt_billing.settlements.models import Settlement, SettlementLine
from ktt_billing.settlements.schemas import LineOut, SettlementDetail, SettlementOut, Totals

router = APIRouter(prefix="/v1", tags=["settlements"], responses={**PROBLEM_RESPONSES})

MonthQ = Annotated[str | None, Query(pattern=rules.MONTH_RE.pattern, description="YYYY-MM")]
StateQ = Annotated[str | None, Query(pattern="^(" + "|".join(rules.STATES) + ")$")]


def settlement_out(s: Settlement) -> dict[str, Any]:
    return {"id": s.id, "provider_id": s.provider_id, "month": s.month, "state": s.state, "held": s.held,
                "hold_reasons": s.hold_reasons or [], "total_cents": s.total_cents, "reference": s.reference,
                "created_on": s.created_on, "approved_on": s.approved_on, "approved_by": s.approved_by, "settled_on": s.settled_on,
                "paid_on": s.paid_on, "payment_batch_id": s.payment_batch_id}


async def detail(session: AsyncSession, s: Settlement) -> SettlementDetail:
    lines = (await session.execute(select(SettlementLine).where(SettlementLine.settlement_id == s.id)
                                   .order_by(SettlementLine.service_month, SettlementLine.client_id,
                                             SettlementLine.agreement_id, SettlementLine.kind))).scalars().all()

    def total(*kinds: str) -> int:
        return sum(x.amount_cents for x in lines if x.kind in kinds)

    return SettlementDetail(
        **settlement_out(s),
        lines=[LineOut(id=x.id, client_id=x.client_id, agreement_id=x.agreement_id, kind=x.kind, basis=x.basis,
                       service_month=x.service_month, date_from=x.date_from, date_to=x.date_to,
                       quantity=rules.quantity(x.quantity_centi), unit_value_cents=x.unit_value_cents,
                       amount_cents=x.amount_cents, cause=x.cause, dispute_id=x.dispute_id) for x in lines],
        totals=Totals(total_cents=total(*rules.LINE_KINDS), days_cents=total(rules.DAY_FIRST_YEAR, rules.DAY_BASE),
                      coaching_cents=total(rules.COACHING_HOUR), refunds_cents=total(rules.REFUND),
                      corrections_cents=total(rules.CORRECTION)),
    )


@router.get("/settlements", response_model=list[SettlementOut], summary="Settlements, filtered (a provider sees its own)")
async def list_settlements(session: SessionDep, principal: Principal = authorize("settlements.list_settlements"),
                           provider_id: str | None = Query(None, max_length=100), month: MonthQ = None,
                           state: StateQ = None) -> list[dict[str, Any]]:
    q = select(Settlement).order_by(Settlement.month.desc(), Settlement.provider_id)
    q = provider_scope(q, Settlement.provider_id, principal, provider_id)
    if month:
        q = q.where(Settlement.month == month)
    if state:
        q = q.where(Settlement.state == state)
    return [settlement_out(s) for s in (await session.execute(q.limit(1000))).scalars().all()]


async def visible(session: AsyncSession, settlement_id: uuid.UUID, principal: Principal) -> Settlement:
    s = await service.get(session, settlement_id)
    if principal.role is Role.PROVIDER and s.provider_id != principal.provider_id:
        raise NotFound(f"no settlement {settlement_id} of yours (DATA-3: a provider sees its own only)", rule="DATA-3")
    return s


@router.get("/settlements/{settlement_id}", response_model=SettlementDetail, summary="A settlement with its lines and totals",
            responses={404: {"description": "No such settlement (or not the provider's own)"}})
async def get_settlement(settlement_id: uuid.UUID, session: SessionDep,
                         principal: Principal = authorize("settlements.get_settlement")) -> SettlementDetail:
    s = await visible(session, settlement_id, principal)
    out = await detail(session, s)
    await audit(session, principal, "settlement.read", "settlement", s.id,
                client_ids=sorted({str(x.client_id) for x in out.lines}))
    return out


@router.post("/settlements/{settlement_id}/approve", response_model=SettlementDetail,
             summary="Approve a settlement under review (city official)",
             responses={404: {"description": "No such settlement"}, 409: {"description": "Held or not under review"}})
async def approve(settlement_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                  principal: Principal = authorize("settlements.approve")) -> SettlementDetail:
    s = await service.approve(session, settlement_id, principal, rt.clock.today())
    return await detail(session, s)
