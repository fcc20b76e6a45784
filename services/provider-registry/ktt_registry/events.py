"""What the provider registry consumes: agreements from the voucher service drive occupancy (PRV-6)
and take the client out of the queues (PRV-7). Both handlers are safe to run twice: the inbox drops
a redelivered event and the agreement id key drops a re-published one. They are safe in any order
too: an end seen before its start is remembered (rules.place_effect), so no phantom place stays."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.db import affected, insert_for
from ktt_common.events import Envelope
from ktt_common.inbox import Subscription
from ktt_common.logging import get_logger
from ktt_contracts.agreement import AgreementEnded, AgreementEndedPayload, AgreementSigned, AgreementSignedPayload

from ktt_registry import rules
from ktt_registry.models import AgreementPlace, QueueEntry, Unit
from ktt_registry.service.common import emit_capacity_changed
from ktt_registry.service.queues import recompute_unit_queues

log = get_logger(__name__)

from_voucher = Subscription(producer="voucher")


@from_voucher.on(AgreementSigned)
async def on_agreement_signed(session: AsyncSession, envelope: Envelope, payload: AgreementSignedPayload) -> None:
    """PRV-6: an individual-form agreement takes one of the unit's places, unless its end was seen
    first (events out of order: no phantom occupied place). PRV-7: the client stops waiting:
    started at this unit, gone elsewhere from any other queue."""
    unit = await session.get(Unit, payload.unit_id, with_for_update=True)
    if unit is None:
        log.warning("agreement_for_unknown_unit", agreement_id=str(payload.agreement_id), unit_id=str(payload.unit_id))
        return
    place = await session.get(AgreementPlace, payload.agreement_id, with_for_update=True)
    effect = rules.place_effect("signed", signed_seen=place is not None and place.signed_on is not None,
                                end_seen=place is not None and place.ended_on is not None, form=payload.form)
    if effect == "nothing":
        return  # this agreement was counted already
    if place is None:
        inserted = affected(await session.execute(
            insert_for(session, AgreementPlace).values(
                agreement_id=payload.agreement_id, unit_id=unit.id, product_id=payload.product_id, client_id=payload.client_id,
                form=payload.form, signed_on=payload.signed_on, revision=payload.revision, created_at=dt.datetime.now(dt.UTC),
            ).on_conflict_do_nothing()
        ))
        if not inserted:
            return
    else:  # the end came first: fill in what the start says, take no place
        place.product_id, place.form, place.signed_on = payload.product_id, payload.form, payload.signed_on
        place.revision = max(place.revision or 0, payload.revision or 0) or None
        log.info("agreement_start_after_its_end", agreement_id=str(payload.agreement_id), revision=payload.revision)
    if effect == "take_place":
        unit.occupied += 1
        await emit_capacity_changed(session, unit)
    waiting = (await session.execute(
        select(QueueEntry).where(QueueEntry.client_id == payload.client_id, QueueEntry.active.is_(True))
    )).scalars().all()
    touched: dict[uuid.UUID, list[QueueEntry]] = {}
    for entry in waiting:
        here = entry.unit_id == unit.id
        entry.active, entry.left_on, entry.outcome = None, payload.signed_on, "started" if here else "elsewhere"
        entry.expected_start, entry.unit_position = None, None
        touched.setdefault(entry.unit_id, []).append(entry)
    await session.flush()
    for unit_id, entries in touched.items():
        other = unit if unit_id == unit.id else await session.get(Unit, unit_id)
        assert other is not None  # a queue entry's unit exists (foreign key)
        for entry in entries:
            await recompute_unit_queues(session, other, change="started" if unit_id == unit.id else "left",
                                        product_id=entry.product_id, client_id=entry.client_id)
    if unit.id not in touched and effect == "take_place":
        await recompute_unit_queues(session, unit)


@from_voucher.on(AgreementEnded)
async def on_agreement_ended(session: AsyncSession, envelope: Envelope, payload: AgreementEndedPayload) -> None:
    """PRV-6 / PRV-7: the place frees up and the queue's expected starts move forward, published.
    An end that arrives before its start is remembered, so the start takes no place."""
    place = await session.get(AgreementPlace, payload.agreement_id, with_for_update=True)
    effect = rules.place_effect("ended", signed_seen=place is not None and place.signed_on is not None,
                                end_seen=place is not None and place.ended_on is not None,
                                form=place.form if place is not None else None)
    if effect == "nothing":
        return  # freed already
    if place is None:  # effect == "remember_end"
        await session.execute(
            insert_for(session, AgreementPlace).values(
                agreement_id=payload.agreement_id, unit_id=payload.unit_id, client_id=payload.client_id,
                ended_on=payload.ended_on, revision=payload.revision, created_at=dt.datetime.now(dt.UTC),
            ).on_conflict_do_nothing()
        )
        log.info("agreement_end_before_its_start", agreement_id=str(payload.agreement_id), revision=payload.revision)
        return
    place.ended_on = payload.ended_on
    place.revision = max(place.revision or 0, payload.revision or 0) or None
    if effect != "free_place":
        return
    unit = await session.get(Unit, place.unit_id, with_for_update=True)
    if unit is None:
        return
    await session.execute(update(Unit).where(Unit.id == unit.id, Unit.occupied > 0).values(occupied=Unit.occupied - 1))
    await session.refresh(unit)
    await emit_capacity_changed(session, unit)
    await recompute_unit_queues(session, unit)


SUBSCRIPTIONS = [from_voucher]
