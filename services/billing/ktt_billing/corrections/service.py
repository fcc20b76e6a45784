"""Corrections never edit a frozen (approved, settled or paid) month: what changed after it froze becomes a
refund line (minus what was billed) and a correction line (what is due now) in the provider's next open
settlement. When what is due equals what was billed — a change that was undone, a cancelling pair — no
line at all. Lines from accepted disputes are corrections of their own and stay out of this comparison."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_billing.copies.models import DayEntry as E
from ktt_billing.settlements import compute, rules
from ktt_billing.settlements.models import Settlement as S
from ktt_billing.settlements.models import SettlementLine as L
from ktt_billing.sql import month_of

EPOCH = dt.date(2000, 1, 1)


async def touched_agreements(session: AsyncSession, before: dt.date, providers: Iterable[str] | None) -> set[uuid.UUID]:
    """Agreements with an entry before ``before`` in a month that has no open settlement and either has
    no settlement at all or was recorded on or after the day that month's settlement was approved."""
    month = month_of(session, E.date)
    q = (
        select(E.agreement_id).distinct()
        .outerjoin(S, and_(S.provider_id == E.provider_id, S.month == month))
        .where(E.date < before,
               or_(S.id.is_(None), and_(S.state.in_(rules.FROZEN_STATES), E.recorded_on >= S.approved_on)))
    )
    if providers is not None:
        q = q.where(E.provider_id.in_(list(providers)))
    return set((await session.execute(q)).scalars().all())


async def billed(session: AsyncSession, agreements: set[uuid.UUID], before_month: str) -> dict[tuple[uuid.UUID, str, str], dict[str, Any]]:
    """Net of what frozen settlements billed per (agreement, service month, basis), disputes aside."""
    q = (
        select(L.agreement_id, L.service_month, L.basis, S.provider_id, L.client_id,
               func.sum(L.quantity_centi).label("q"), func.sum(L.amount_cents).label("amount"),
               func.max(L.unit_value_cents).label("value"), func.min(L.date_from).label("d0"),
               func.max(L.date_to).label("d1"))
        .join(S, S.id == L.settlement_id)
        .where(S.state.in_(rules.FROZEN_STATES), L.dispute_id.is_(None), L.agreement_id.in_(list(agreements)),
               L.service_month < before_month)
        .group_by(L.agreement_id, L.service_month, L.basis, S.provider_id, L.client_id)
    )
    return {(r.agreement_id, r.service_month, r.basis): r._asdict() for r in (await session.execute(q)).all()}


def _line(kind: str, provider_id: str, g: dict[str, Any], cause: str) -> dict[str, Any]:
    return {"provider_id": provider_id, "client_id": g["client_id"], "agreement_id": g["agreement_id"], "kind": kind,
                "basis": g["basis"], "service_month": g["service_month"], "date_from": g["d0"], "date_to": g["d1"],
                "quantity_centi": g["q"], "unit_value_cents": g["value"], "amount_cents": g["amount"], "cause": cause}


async def correction_lines(session: AsyncSession, month: str, providers: Iterable[str] | None) -> list[dict[str, Any]]:
    """Refund and correction lines due in the settlements of ``month`` (per provider), for earlier months."""
    first, _ = rules.parse_month(month)
    agreements = await compute.sharing_a_cap(session, await touched_agreements(session, first, providers))
    if not agreements:
        return []
    should = {g.key: g for g in await compute.groups(session, EPOCH, first - dt.timedelta(days=1), agreements=agreements)}
    was = await billed(session, agreements, month)
    open_months: dict[str, list[str]] = {}
    for provider_id, m in (await session.execute(select(S.provider_id, S.month).where(S.state.in_(rules.OPEN_STATES)))).all():
        open_months.setdefault(provider_id, []).append(m)
    lines: list[dict[str, Any]] = []
    for key in sorted(set(should) | set(was), key=lambda k: (str(k[0]), k[1], k[2])):
        new, old = should.get(key), was.get(key)
        if new is not None:
            provider_id = new.provider_id
        else:
            assert old is not None  # the key came from one of the two
            provider_id = old["provider_id"]
        if providers is not None and provider_id not in providers:
            continue  # another provider's agreement of the same decision: corrected in its own settlement
        service_month = key[1]
        later_open = sorted(m for m in open_months.get(provider_id, []) if m > service_month)
        if service_month in open_months.get(provider_id, []) or (later_open and later_open[0] != month):
            continue  # recomputed in its own open settlement, or corrected in an earlier open one
        new_q, new_amount = (new.quantity_centi, new.amount_cents) if new else (0, 0)
        old_q, old_amount = (int(old["q"]), int(old["amount"])) if old else (0, 0)
        if (new_q, new_amount) == (old_q, old_amount):
            continue  # nothing changed, or a change that cancelled out: no lines
        if old and (old_q or old_amount):
            lines.append(_line(rules.REFUND, provider_id, {**old, "agreement_id": key[0], "service_month": service_month,
                                                           "basis": key[2], "q": -old_q, "amount": -old_amount},
                               f"{service_month} was billed before a change in the daily log: refunded in full"))
        if new and (new_q or new_amount):
            lines.append(_line(rules.CORRECTION, provider_id, {
                "client_id": new.client_id, "agreement_id": key[0], "basis": key[2], "service_month": service_month, "d0": new.date_from,
                "d1": new.date_to, "q": new_q, "value": new.unit_value_cents, "amount": new_amount},
                f"{service_month} as the daily log stands now" + ("" if old else " (not billed before)")))
    return lines
