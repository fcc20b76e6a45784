"""What a provider should be paid, as SQL aggregates over billing's own copies (set-based: one
statement per line family, never a Python loop over entries).

A *group* is (agreement, service month, basis) with basis day_first_year | day_base | coaching_hour:
realised days × the frozen day value split at the base-value date (BIL-1, BIL-6, VOU-6), and coaching
hours × the hour value up to the approved hours counted across months (VOU-7). Absences and
not_organised days are never realised and pay nothing (BIL-1); days outside the agreement (after an
early end, BIL-5) are not paid. Nothing here charges the client (BIL-4, DEC-5).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_billing.copies.models import AgreementCopy as A
from ktt_billing.copies.models import DayEntry as E
from ktt_billing.settlements import rules
from ktt_billing.sql import month_of


@dataclass(frozen=True)
class Group:
    provider_id: str
    agreement_id: uuid.UUID
    client_id: uuid.UUID
    service_month: str
    basis: str
    quantity_centi: int
    unit_value_cents: int
    amount_cents: int
    date_from: dt.date
    date_to: dt.date

    @property
    def key(self) -> tuple[uuid.UUID, str, str]:
        return (self.agreement_id, self.service_month, self.basis)


def _in_agreement() -> Any:
    return and_(E.date >= A.start, E.date <= A.end, or_(A.ended_on.is_(None), E.date <= A.ended_on))


def _scope(providers: Iterable[str] | None, agreements: Iterable[uuid.UUID] | None) -> list[Any]:
    where: list[Any] = []
    if providers is not None:
        where.append(E.provider_id.in_(list(providers)))
    if agreements is not None:
        where.append(E.agreement_id.in_(list(agreements)))
    return where


async def day_groups(session: AsyncSession, lo: dt.date, hi: dt.date, *, providers: Iterable[str] | None = None,
                     agreements: Iterable[uuid.UUID] | None = None) -> list[Group]:
    """Realised days per agreement, month and basis in [lo, hi] (BIL-1, BIL-6, VOU-6)."""
    first_year = E.date < A.base_value_from
    basis = case((first_year, literal(rules.DAY_FIRST_YEAR)), else_=literal(rules.DAY_BASE))
    value = case((first_year, A.day_value_first_year_cents), else_=A.base_day_value_cents)
    month = month_of(session, E.date)
    q = (
        select(E.provider_id, E.agreement_id, A.client_id, month.label("m"), basis.label("basis"), value.label("value"),
               func.count().label("n"), func.min(E.date).label("d0"), func.max(E.date).label("d1"))
        .join(A, A.agreement_id == E.agreement_id)
        .where(E.realised.is_(True), E.date >= lo, E.date <= hi, _in_agreement(), value.is_not(None),
               *_scope(providers, agreements))
        .group_by(E.provider_id, E.agreement_id, A.client_id, month, basis, value)
    )
    return [Group(r.provider_id, r.agreement_id, r.client_id, r.m, r.basis, int(r.n) * 100, int(r.value),
                  int(r.n) * int(r.value), r.d0, r.d1) for r in (await session.execute(q)).all()]


async def coaching_groups(session: AsyncSession, lo: dt.date, hi: dt.date, *, providers: Iterable[str] | None = None,
                          agreements: Iterable[uuid.UUID] | None = None) -> list[Group]:
    """Coaching hours per agreement and month in [lo, hi], paid up to the approved hours (VOU-7): the
    cap counts every month of the agreement up to ``hi`` (a running sum), so an earlier month's hours
    use up the approval before a later month's."""
    month = month_of(session, E.date)
    per_month = (
        select(E.provider_id, E.agreement_id, A.client_id, A.hour_value_cents.label("value"),
               func.coalesce(A.approved_hours, 0).label("approved"), month.label("m"),
               func.sum(E.coaching_centihours).label("h"), func.min(E.date).label("d0"), func.max(E.date).label("d1"))
        .join(A, A.agreement_id == E.agreement_id)
        .where(E.realised.is_(True), E.coaching_centihours > 0, E.date <= hi, _in_agreement(),
               A.hour_value_cents.is_not(None), *_scope(providers, agreements))
        .group_by(E.provider_id, E.agreement_id, A.client_id, A.hour_value_cents, A.approved_hours, month)
        .subquery()
    )
    running = select(per_month, func.sum(per_month.c.h).over(partition_by=per_month.c.agreement_id,
                                                             order_by=per_month.c.m).label("cum")).subquery()
    cap = running.c.approved * 100
    before = running.c.cum - running.c.h

    def least(x: Any, y: Any) -> Any:
        return case((x < y, x), else_=y)

    paid = least(running.c.cum, cap) - least(before, cap)
    q = select(running, paid.label("paid")).where(running.c.m >= rules.month_str(lo))
    out = []
    for r in (await session.execute(q)).all():
        quantity = max(0, int(r.paid))
        if quantity:
            out.append(Group(r.provider_id, r.agreement_id, r.client_id, r.m, rules.COACHING_HOUR, quantity, int(r.value),
                             rules.amount_cents(quantity, int(r.value)), r.d0, r.d1))
    return out


async def groups(session: AsyncSession, lo: dt.date, hi: dt.date, **scope: Any) -> list[Group]:
    return await day_groups(session, lo, hi, **scope) + await coaching_groups(session, lo, hi, **scope)
