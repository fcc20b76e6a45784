"""What a provider should be paid, as SQL aggregates over billing's own copies (set-based: one
statement per line family, never a Python loop over entries).

A *group* is (agreement, service month, basis) with basis day_first_year | day_base | coaching_hour:
realised days × the frozen day value split at the base-value date (BIL-1, BIL-6, VOU-6), and coaching
hours × the hour value up to the approved hours counted across months (VOU-7). Absences and
not_organised days are never realised and pay nothing (BIL-1); days outside the agreement (after an
early end, BIL-5) are not paid. Nothing here charges the client (BIL-4, DEC-5).

Two ways out of the same two SELECTs: ``groups`` brings them to Python (corrections compare a handful
of agreements with what was billed), ``stage_month`` inserts a whole month's groups into a temporary
table in the database (``INSERT ... SELECT``), from which the settlement lines are written without a
round trip of tens of thousands of rows through Python.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Uuid,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ktt_billing.copies.models import AgreementCopy as A
from ktt_billing.copies.models import DayEntry as E
from ktt_billing.settlements import rules
from ktt_billing.sql import dialect, month_of

# The columns every group SELECT yields, in this order (also the staging table's, with kind and cause).
GROUP_COLUMNS = ("provider_id", "agreement_id", "client_id", "service_month", "basis", "quantity_centi",
                 "unit_value_cents", "amount_cents", "date_from", "date_to")

# One transaction's lines before they get their settlement: a temporary table (per connection, created
# and dropped inside the job's transaction, so a rollback leaves nothing behind on either database).
STAGE = Table(
    "settlement_stage", MetaData(),
    Column("provider_id", String(100)), Column("agreement_id", Uuid), Column("client_id", Uuid),
    Column("service_month", String(7)), Column("basis", String(20)), Column("quantity_centi", Integer),
    Column("unit_value_cents", Integer), Column("amount_cents", Integer), Column("date_from", Date),
    Column("date_to", Date), Column("kind", String(20)), Column("cause", String(300)),
    prefixes=["TEMPORARY"],
)


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


def day_select(session: AsyncSession, lo: dt.date, hi: dt.date, *, providers: Iterable[str] | None = None,
               agreements: Iterable[uuid.UUID] | None = None) -> Select[*tuple[Any, ...]]:
    """Realised days per agreement, month and basis in [lo, hi] (BIL-1, BIL-6, VOU-6), as GROUP_COLUMNS.

    Grouped on cheap keys (the agreement, the first-year flag; the month only when [lo, hi] spans
    several), so that PostgreSQL hashes the ~900,000 entries of a national month instead of sorting them."""
    first_year = E.date < A.base_value_from
    basis = case((first_year, literal(rules.DAY_FIRST_YEAR)), else_=literal(rules.DAY_BASE))
    value = case((first_year, A.day_value_first_year_cents), else_=A.base_day_value_cents)
    one_month = rules.month_str(lo) == rules.month_str(hi)
    month = literal(rules.month_str(lo), String) if one_month else month_of(session, E.date)
    days = func.count()
    keys = [E.provider_id, A.agreement_id, A.client_id, first_year, A.day_value_first_year_cents, A.base_day_value_cents]
    return (
        select(E.provider_id, A.agreement_id, A.client_id, month.label("service_month"), basis.label("basis"),
               (days * 100).label("quantity_centi"), value.label("unit_value_cents"), (days * value).label("amount_cents"),
               func.min(E.date).label("date_from"), func.max(E.date).label("date_to"))
        .join(A, A.agreement_id == E.agreement_id)
        .where(E.realised.is_(True), E.date >= lo, E.date <= hi, _in_agreement(), value.is_not(None),
               *_scope(providers, agreements))
        .group_by(*keys, *([] if one_month else [month]))
    )


def cap_key(a: Any = A) -> Any:
    """VOU-7, DEC-3: whose approval coaching hours count against: the decision's, shared by all its
    agreements (a change of provider does not grant the hours again); for a copy stored before the
    decision was kept (NULL), the agreement's own."""
    return func.coalesce(a.decision_id, a.agreement_id)


def coaching_select(session: AsyncSession, lo: dt.date, hi: dt.date, *, providers: Iterable[str] | None = None,
                    agreements: Iterable[uuid.UUID] | None = None) -> Select[*tuple[Any, ...]]:
    """Coaching hours per agreement and month in [lo, hi], paid up to the approved hours (VOU-7), as
    GROUP_COLUMNS: the cap counts every month of every agreement of the decision up to ``hi`` (a running
    sum, earlier months first, and within a month the earlier agreement first), so hours already paid
    use up the approval before later ones. The approved hours are the decision's (the highest any of its
    agreements carries, should an amendment reach one copy first). Rounded half up to the cent."""
    month = month_of(session, E.date)
    where = [E.realised.is_(True), E.coaching_centihours > 0, E.date <= hi, _in_agreement(), A.hour_value_cents.is_not(None)]
    if providers is not None or agreements is not None:
        # the decisions in scope, with every agreement of theirs (their hours share the cap)
        other = aliased(A)
        in_scope = select(cap_key(other))
        if providers is not None:
            in_scope = in_scope.where(other.provider_id.in_(list(providers)))
        if agreements is not None:
            in_scope = in_scope.where(other.agreement_id.in_(list(agreements)))
        where.append(cap_key().in_(in_scope))
    per_month = (
        select(E.provider_id, E.agreement_id, A.client_id, A.start.label("since"), cap_key().label("cap_key"),
               A.hour_value_cents.label("value"), func.coalesce(A.approved_hours, 0).label("approved"), month.label("m"),
               func.sum(E.coaching_centihours).label("h"), func.min(E.date).label("d0"), func.max(E.date).label("d1"))
        .join(A, A.agreement_id == E.agreement_id)
        .where(*where)
        .group_by(E.provider_id, E.agreement_id, A.client_id, A.start, cap_key(), A.hour_value_cents, A.approved_hours, month)
        .subquery()
    )
    c = per_month.c
    running = select(per_month,
                     func.sum(c.h).over(partition_by=c.cap_key, order_by=(c.m, c.since, c.agreement_id),
                                        rows=(None, 0)).label("cum"),
                     func.max(c.approved).over(partition_by=c.cap_key).label("approved_hours")).subquery()
    cap = running.c.approved_hours * 100
    before = running.c.cum - running.c.h

    def least(x: Any, y: Any) -> Any:
        return case((x < y, x), else_=y)

    # integers throughout (PostgreSQL's running sum of a bigint is numeric): the amount is exact, then half up
    paid = cast(least(running.c.cum, cap) - least(before, cap), BigInteger)
    scope = [running.c.m >= rules.month_str(lo), paid > 0]
    if providers is not None:
        scope.append(running.c.provider_id.in_(list(providers)))
    if agreements is not None:
        scope.append(running.c.agreement_id.in_(list(agreements)))
    return (
        select(running.c.provider_id, running.c.agreement_id, running.c.client_id, running.c.m.label("service_month"),
               literal(rules.COACHING_HOUR, String).label("basis"), paid.label("quantity_centi"),
               running.c.value.label("unit_value_cents"), ((paid * running.c.value + 50) // 100).label("amount_cents"),
               running.c.d0.label("date_from"), running.c.d1.label("date_to"))
        .where(*scope)
    )


async def sharing_a_cap(session: AsyncSession, agreements: set[uuid.UUID]) -> set[uuid.UUID]:
    """The agreements and every other agreement of their decisions (VOU-7: a change in one's coaching
    hours moves what the others may be paid)."""
    if not agreements:
        return set()
    other = aliased(A)
    q = select(A.agreement_id).where(cap_key().in_(select(cap_key(other)).where(other.agreement_id.in_(list(agreements)))))
    return set(agreements) | set((await session.execute(q)).scalars().all())


async def groups(session: AsyncSession, lo: dt.date, hi: dt.date, **scope: Any) -> list[Group]:
    out: list[Group] = []
    for q in (day_select(session, lo, hi, **scope), coaching_select(session, lo, hi, **scope)):
        out.extend(Group(r.provider_id, r.agreement_id, r.client_id, r.service_month, r.basis, int(r.quantity_centi),
                         int(r.unit_value_cents), int(r.amount_cents), r.date_from, r.date_to)
                   for r in (await session.execute(q)).all())
    return out


async def stage_month(session: AsyncSession, lo: dt.date, hi: dt.date, providers: Iterable[str] | None) -> Table:
    """Create the staging table and fill it with the groups of [lo, hi] (kind = basis), in the database.
    The caller adds its correction lines and drops the table (``drop_stage``) before the transaction ends."""
    await session.run_sync(lambda s: STAGE.create(s.connection()))
    if dialect(session) == "postgresql":
        # A national month is ~900,000 entries in ~55,000 groups: let this transaction hash them in memory.
        await session.execute(select(func.set_config("work_mem", "64MB", True)))
    scoped = None if providers is None else list(providers)
    for q in (day_select(session, lo, hi, providers=scoped), coaching_select(session, lo, hi, providers=scoped)):
        s = q.subquery()
        await session.execute(insert(STAGE).from_select([*GROUP_COLUMNS, "kind"], select(*s.c, s.c.basis)))
    return STAGE


async def drop_stage(session: AsyncSession) -> None:
    await session.run_sync(lambda s: STAGE.drop(s.connection()))
