"""Reconciliation per month: paid days = realised days per agreement; a difference is listed with its cause."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_billing.copies.models import AgreementCopy as A
from ktt_billing.copies.models import DayEntry as E
from ktt_billing.settlements import rules
from ktt_billing.settlements.models import Settlement as S
from ktt_billing.settlements.models import SettlementLine as L


async def reconcile(session: AsyncSession, month: str, provider_id: str | None) -> list[dict[str, Any]]:
    first, last = rules.parse_month(month)
    inside = and_(A.agreement_id.is_not(None), E.date >= A.start, E.date <= A.end,
                  or_(A.ended_on.is_(None), E.date <= A.ended_on))
    valued = case((E.date < A.base_value_from, A.day_value_first_year_cents), else_=A.base_day_value_cents).is_not(None)
    q = (select(E.provider_id, E.agreement_id, E.client_id, func.count().label("realised"),
                func.sum(case((and_(inside, valued), 1), else_=0)).label("payable"),
                func.max(case((A.agreement_id.is_(None), 1), else_=0)).label("unknown"))
         .outerjoin(A, A.agreement_id == E.agreement_id)
         .where(E.realised.is_(True), E.date >= first, E.date <= last)
         .group_by(E.provider_id, E.agreement_id, E.client_id))
    if provider_id:
        q = q.where(E.provider_id == provider_id)
    realised = {r.agreement_id: r for r in (await session.execute(q)).all()}
    pq = (select(L.agreement_id, S.provider_id, L.client_id, func.sum(L.quantity_centi).label("q"))
          .join(S, S.id == L.settlement_id)
          .where(S.state.in_(rules.FROZEN_STATES), L.service_month == month,
                 L.basis.in_([rules.DAY_FIRST_YEAR, rules.DAY_BASE]))
          .group_by(L.agreement_id, S.provider_id, L.client_id))
    if provider_id:
        pq = pq.where(S.provider_id == provider_id)
    paid = {r.agreement_id: r for r in (await session.execute(pq)).all()}
    states = dict((await session.execute(select(S.provider_id, S.state).where(S.month == month))).all())
    out = []
    for agreement_id in sorted(set(realised) | set(paid), key=str):
        r, p = realised.get(agreement_id), paid.get(agreement_id)
        either = r if r is not None else p
        assert either is not None  # the agreement came from one of the two
        provider = either.provider_id
        n_realised = int(r.realised) if r else 0
        n_paid = (int(p.q) // 100) if p else 0
        cause = None
        if n_paid != n_realised:
            if r is not None and r.unknown:
                cause = "agreement_unknown: no AgreementSigned has reached billing for this agreement"
            elif states.get(provider) not in rules.FROZEN_STATES:
                cause = f"settlement_open: the month's settlement is {states.get(provider, 'not computed yet')}"
            elif r is not None and int(r.payable) != n_realised and n_paid == int(r.payable):
                cause = "not_payable: days outside the agreement (after its end, BIL-5) or without a frozen day value"
            else:
                cause = "correction_pending: the daily log changed after the settlement; the next settlement corrects it"
        out.append({"provider_id": provider, "agreement_id": agreement_id, "client_id": either.client_id, "month": month,
                        "realised_days": n_realised, "paid_days": n_paid, "difference": n_paid - n_realised, "cause": cause})
    return out
