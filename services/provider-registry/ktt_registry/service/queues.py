"""Queues (PRV-7): first come, first served per unit and product, with an expected start for
every queued client, every change published at once, and no new entries when the wait is long.

How the wait is estimated (see also rules.individual_wait_days and docs/decisions.md):
- individual-form products (individual KTT, assessment period, intensive coaching) share the
  unit's individual places, so their queued clients are ranked together by arrival; the first
  ``free places`` clients start today, after that one place frees up every
  ``queue_turnover_days / capacity`` days;
- a group product's queued clients go to the announced, not-full groups of that product at the
  unit, in start order, as far as their free places reach; beyond them there is no estimate.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.errors import Conflict, FieldError, NotFound, RuleViolation
from ktt_common.outbox import emit
from ktt_common.policy import one_scoped
from ktt_contracts.registry import QueueChanged, QueueChangedPayload, QueuedClient

from ktt_registry import rules
from ktt_registry.models import Group, Product, Provider, QueueEntry, Unit
from ktt_registry.schemas_places import QueueEntryOut
from ktt_registry.service.common import instructor_count, now, own_product, own_unit, settings_of, taking_clients, today


@dataclass(frozen=True)
class UnitPlaces:
    capacity: int
    free: int


async def unit_places(session: AsyncSession, unit: Unit) -> UnitPlaces:
    n = await instructor_count(session, unit.id)
    return UnitPlaces(rules.capacity(n), rules.free_places(n, unit.occupied, taking_clients(unit)))


async def open_groups(session: AsyncSession, unit_id: uuid.UUID, product_id: uuid.UUID, on: dt.date) -> list[rules.OpenGroup]:
    groups = (await session.execute(
        select(Group).where(Group.unit_id == unit_id, Group.product_id == product_id, Group.starts_on >= on,
                            Group.places_full.is_(False))
    )).scalars().all()
    return [rules.OpenGroup(g.starts_on, g.places - g.enrolled) for g in groups if g.places > g.enrolled]


def _wait(start: dt.date | None, day: dt.date) -> int | None:
    return None if start is None else (start - day).days


@dataclass(frozen=True)
class Estimate:
    """Where a queued client stands: expected start (None: no estimate) and, for the individual-form
    products that share the unit's places, the rank among all of the unit's waiting clients."""

    expected_start: dt.date | None
    unit_position: int | None


async def expected_starts(session: AsyncSession, unit: Unit) -> dict[uuid.UUID, Estimate]:
    """Expected start and unit-wide rank of every queued client of the unit (entry id -> Estimate)."""
    day = today(session)
    rows = (await session.execute(
        select(QueueEntry, Product.kind).join(Product, Product.id == QueueEntry.product_id)
        .where(QueueEntry.unit_id == unit.id, QueueEntry.active.is_(True)).order_by(QueueEntry.seq)
    )).all()
    places = await unit_places(session, unit)
    turnover = settings_of(session).queue_turnover_days
    result: dict[uuid.UUID, Estimate] = {}
    individual_rank = 0
    group_rank: dict[uuid.UUID, int] = defaultdict(int)
    groups_cache: dict[uuid.UUID, list[rules.OpenGroup]] = {}
    for entry, kind in rows:
        if kind == "group":
            group_rank[entry.product_id] += 1
            if entry.product_id not in groups_cache:
                groups_cache[entry.product_id] = await open_groups(session, unit.id, entry.product_id, day)
            start = rules.group_start(group_rank[entry.product_id], groups_cache[entry.product_id]) if taking_clients(unit) else None
            result[entry.id] = Estimate(start, None)
        else:
            individual_rank += 1
            wait = rules.individual_wait_days(individual_rank, places.free, places.capacity, turnover)
            result[entry.id] = Estimate(None if wait is None else day + dt.timedelta(days=wait), individual_rank)
    return result


async def new_entrant_start(session: AsyncSession, unit: Unit, product: Product) -> dt.date | None:
    """PRV-7: the expected start of a client who would join this queue now (None: no estimate)."""
    day = today(session)
    if product.kind == "group":
        queued = (await session.execute(
            select(func.count()).select_from(QueueEntry)
            .where(QueueEntry.unit_id == unit.id, QueueEntry.product_id == product.id, QueueEntry.active.is_(True))
        )).scalar_one()
        if not taking_clients(unit):
            return None
        return rules.group_start(int(queued) + 1, await open_groups(session, unit.id, product.id, day))
    queued = (await session.execute(
        select(func.count()).select_from(QueueEntry).join(Product, Product.id == QueueEntry.product_id)
        .where(QueueEntry.unit_id == unit.id, QueueEntry.active.is_(True), Product.kind != "group")
    )).scalar_one()
    places = await unit_places(session, unit)
    wait = rules.individual_wait_days(int(queued) + 1, places.free, places.capacity, settings_of(session).queue_turnover_days)
    return None if wait is None else day + dt.timedelta(days=wait)


async def new_entrant_wait(session: AsyncSession, unit: Unit, product: Product) -> int | None:
    """PRV-7: the estimated wait, in days, of a client who would join this queue now."""
    return _wait(await new_entrant_start(session, unit, product), today(session))


async def _snapshot(session: AsyncSession, unit_id: uuid.UUID, product_id: uuid.UUID) -> list[QueuedClient]:
    entries = (await session.execute(
        select(QueueEntry).where(QueueEntry.unit_id == unit_id, QueueEntry.product_id == product_id, QueueEntry.active.is_(True))
        .order_by(QueueEntry.seq)
    )).scalars().all()
    return [QueuedClient(position=i, client_id=e.client_id, joined_on=e.joined_on, expected_start=e.expected_start,
                         unit_position=e.unit_position) for i, e in enumerate(entries, start=1)]


async def recompute_unit_queues(session: AsyncSession, unit: Unit, *, change: str = "recomputed",
                                product_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None) -> None:
    """Store every queued client's expected start and unit-wide rank and publish QueueChanged at once
    (PRV-7): for the queue the change was about, and for every other queue of the unit whose expected
    starts or ranks moved."""
    await session.flush()
    estimates = await expected_starts(session, unit)
    entries = (await session.execute(
        select(QueueEntry).where(QueueEntry.unit_id == unit.id, QueueEntry.active.is_(True))
    )).scalars().all()
    moved: set[uuid.UUID] = set()
    for entry in entries:
        new = estimates.get(entry.id, Estimate(None, None))
        if (entry.expected_start, entry.unit_position) != (new.expected_start, new.unit_position):
            entry.expected_start, entry.unit_position = new.expected_start, new.unit_position
            moved.add(entry.product_id)
    await session.flush()
    day = today(session)
    if product_id is not None:
        await emit(session, QueueChanged, QueueChangedPayload(
            provider_id=unit.provider_id, unit_id=unit.id, product_id=product_id, change=change,
            client_id=client_id, entries=await _snapshot(session, unit.id, product_id), changed_on=day,
        ), subject=f"{unit.id}/{product_id}", revision_of=f"queue:{unit.id}/{product_id}")
    for other in sorted(moved - {product_id}, key=str):
        await emit(session, QueueChanged, QueueChangedPayload(
            provider_id=unit.provider_id, unit_id=unit.id, product_id=other, change="recomputed",
            entries=await _snapshot(session, unit.id, other), changed_on=day,
        ), subject=f"{unit.id}/{other}", revision_of=f"queue:{unit.id}/{other}")


async def alternatives(session: AsyncSession, product: Product, exclude_unit: uuid.UUID) -> list[dict[str, Any]]:
    """Units of approved providers offering the same kind of product with free places now (PRV-7)."""
    day = today(session)
    rows = (await session.execute(
        select(Unit, Provider.name, Product).join(Provider, Provider.id == Unit.provider_id)
        .join(Product, Product.provider_id == Provider.id)
        .where(Provider.status == "approved", Product.kind == product.kind, Product.active.is_(True),
               Unit.id != exclude_unit, Unit.unable_reason.is_(None))
        .order_by(Provider.name, Unit.name)
    )).all()
    found: list[dict[str, Any]] = []
    for unit, provider_name, other in rows:
        if other.kind == "group":
            free = sum(g.free for g in await open_groups(session, unit.id, other.id, day))
        else:
            free = (await unit_places(session, unit)).free
        if free > 0:
            found.append({"provider_id": unit.provider_id, "provider_name": provider_name, "unit_id": str(unit.id),
                          "unit_name": unit.name, "product_id": str(other.id), "free_places": free})
    return found


async def join_queue(session: AsyncSession, unit_id: uuid.UUID, product_id: uuid.UUID, client_id: uuid.UUID,
                     principal: Principal) -> QueueEntry:
    """PRV-7: a client joins the end of the queue unless the estimated wait exceeds one month."""
    unit = await own_unit(session, principal, unit_id, for_update=True)
    product = await own_product(session, principal, product_id)
    if product.provider_id != unit.provider_id or not product.active:
        raise NotFound(f"the unit's provider offers no active product {product_id}")
    provider = await session.get(Provider, unit.provider_id)
    assert provider is not None
    if provider.status != "approved":
        raise RuleViolation(f"the provider is {provider.status}: only approved providers take voucher clients", rule="PRV-1")
    if not taking_clients(unit):
        raise RuleViolation(f"the unit cannot take clients now: {unit.unable_reason}", rule="PRV-8",
                            alternatives=await alternatives(session, product, unit.id))
    already = (await session.execute(select(QueueEntry.id).where(
        QueueEntry.unit_id == unit.id, QueueEntry.product_id == product.id, QueueEntry.client_id == client_id,
        QueueEntry.active.is_(True)))).first()
    if already:
        raise Conflict("the client is already in this queue")
    day = today(session)
    start, latest = await new_entrant_start(session, unit, product), rules.latest_queue_start(day)
    if not rules.may_join_queue(start, day):
        if start is not None:
            said = (f"the estimated start is {start.isoformat()} ({_wait(start, day)} days), more than one calendar month "
                    f"away (the latest acceptable start is {latest.isoformat()})")
        elif product.kind == "group":
            said = "no group with free places is announced, so no start can be estimated"
        else:
            said = "the unit has no places (no active instructor), so no start can be estimated"
        alts = await alternatives(session, product, unit.id)
        raise RuleViolation(
            f"{said}: a new client cannot join this queue; "
            + (f"units with free places now: {', '.join(a['unit_name'] + ' (' + a['provider_name'] + ')' for a in alts)}"
               if alts else "no other unit has free places now; ask Typake for another way to arrange the service"),
            rule="PRV-7", errors=[FieldError(field="path.product_id", rule="PRV-7", message=said)],
            estimated_wait_days=_wait(start, day), estimated_start=start.isoformat() if start else None,
            latest_start=latest.isoformat(), alternatives=alts,
        )
    entry = QueueEntry(id=uuid.uuid4(), unit_id=unit.id, product_id=product.id, client_id=client_id, active=True,
                       joined_on=today(session), created_at=now())
    try:
        async with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        raise Conflict("the client is already in this queue") from None
    await recompute_unit_queues(session, unit, change="joined", product_id=product.id, client_id=client_id)
    await audit(session, principal, "queue.join", "unit", unit.id, client_ids=[client_id],
                details={"product_id": str(product.id), "entry_id": str(entry.id)})
    return entry


async def leave_queue(session: AsyncSession, entry_id: uuid.UUID, outcome: str, principal: Principal) -> QueueEntry:
    """PRV-7: a client leaves the queue (started, withdrew, went elsewhere); the rest move up, published."""
    # DATA-3: scoped through its unit in the query; another provider's entry is a missing one.
    entry = await one_scoped(session, select(QueueEntry).join(Unit, Unit.id == QueueEntry.unit_id).where(QueueEntry.id == entry_id),
                             principal, provider_column=Unit.provider_id, detail=f"no queue entry {entry_id}")
    unit = await own_unit(session, principal, entry.unit_id, for_update=True)
    if not entry.active:
        return entry  # left already: a replay changes and publishes nothing
    entry.active, entry.left_on, entry.outcome, entry.expected_start, entry.unit_position = None, today(session), outcome, None, None
    await recompute_unit_queues(session, unit, change="started" if outcome == "started" else "left",
                                product_id=entry.product_id, client_id=entry.client_id)
    await audit(session, principal, "queue.leave", "unit", unit.id, client_ids=[entry.client_id],
                details={"entry_id": str(entry.id), "outcome": outcome})
    return entry


async def list_queue(session: AsyncSession, unit_id: uuid.UUID, product_id: uuid.UUID, principal: Principal) -> list[QueueEntryOut]:
    unit = await own_unit(session, principal, unit_id)
    entries = (await session.execute(
        select(QueueEntry).where(QueueEntry.unit_id == unit.id, QueueEntry.product_id == product_id, QueueEntry.active.is_(True))
        .order_by(QueueEntry.seq)
    )).scalars().all()
    await audit(session, principal, "queue.read", "unit", unit.id, client_ids=[e.client_id for e in entries])
    return [entry_out(e, i) for i, e in enumerate(entries, start=1)]


def entry_out(e: QueueEntry, position: int | None) -> QueueEntryOut:
    return QueueEntryOut(id=e.id, unit_id=e.unit_id, product_id=e.product_id, client_id=e.client_id, position=position,
                         unit_position=e.unit_position, joined_on=e.joined_on, expected_start=e.expected_start, outcome=e.outcome)
