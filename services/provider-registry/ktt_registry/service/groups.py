"""Use cases of groups: announced start, end and places (PRV-5) within the group rules (PRV-6)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.errors import NotFound, refuse
from ktt_common.outbox import emit
from ktt_common.policy import one_scoped
from ktt_contracts.registry import GroupAnnounced, GroupAnnouncedPayload

from ktt_registry import rules
from ktt_registry.models import Group, Instructor, Unit
from ktt_registry.schemas_places import EnrolmentIn, GroupIn, GroupPatch
from ktt_registry.service.common import now, own_product, own_unit, settings_of, today
from ktt_registry.service.queues import recompute_unit_queues


async def _instructor(session: AsyncSession, unit: Unit, instructor_id: uuid.UUID) -> Instructor | None:
    found = await session.get(Instructor, instructor_id)
    return found if found is not None and found.unit_id == unit.id and found.active else None


async def _check(session: AsyncSession, unit: Unit, g: Group) -> None:
    lead = await _instructor(session, unit, g.lead_instructor_id)
    second = await _instructor(session, unit, g.second_responsible_id)
    refuse(rules.check_group(rules.GroupFacts(
        places=g.places, enrolled=g.enrolled, starts_on=g.starts_on, ends_on=g.ends_on, lead_instructor_ok=lead is not None,
        second_responsible_ok=second is not None, distinct_responsibles=g.lead_instructor_id != g.second_responsible_id,
        instructors_present=g.instructors_present,
    ), settings_of(session).large_group_over))


async def _announce(session: AsyncSession, unit: Unit, g: Group) -> None:
    lead = await session.get(Instructor, g.lead_instructor_id)
    second = await session.get(Instructor, g.second_responsible_id)
    await emit(session, GroupAnnounced, GroupAnnouncedPayload(
        provider_id=unit.provider_id, unit_id=unit.id, group_id=g.id, product_id=g.product_id, name=g.name,
        starts_on=g.starts_on, ends_on=g.ends_on, places=g.places, enrolled=g.enrolled,
        places_full=g.places_full or g.enrolled >= g.places, lead_instructor=lead.name if lead else "",
        second_responsible=second.name if second else "", instructors_present=g.instructors_present, changed_on=today(session),
    ), subject=str(g.id))


async def create_group(session: AsyncSession, unit_id: uuid.UUID, body: GroupIn, principal: Principal) -> Group:
    unit = await own_unit(session, principal, unit_id, for_update=True)
    product = await own_product(session, principal, body.product_id)
    if product.provider_id != unit.provider_id or product.kind != "group":
        raise NotFound(f"the unit's provider has no group product {body.product_id}")
    t = now()
    group = Group(id=uuid.uuid4(), unit_id=unit.id, product_id=product.id, name=body.name, starts_on=body.starts_on,
                  ends_on=body.ends_on, places=body.places, enrolled=0, places_full=False,
                  lead_instructor_id=body.lead_instructor_id, second_responsible_id=body.second_responsible_id,
                  instructors_present=body.instructors_present, created_at=t, updated_at=t)
    await _check(session, unit, group)
    session.add(group)
    await session.flush()
    await _announce(session, unit, group)
    await recompute_unit_queues(session, unit)
    await audit(session, principal, "group.create", "group", group.id)
    return group


async def _own_group(session: AsyncSession, principal: Principal, group_id: uuid.UUID) -> tuple[Group, Unit]:
    """The group, scoped through its unit in the query (DATA-3): another provider's group is a missing one."""
    group = await one_scoped(session, select(Group).join(Unit, Unit.id == Group.unit_id).where(Group.id == group_id),
                             principal, provider_column=Unit.provider_id, detail=f"no group {group_id}")
    return group, await own_unit(session, principal, group.unit_id, for_update=True)


async def patch_group(session: AsyncSession, group_id: uuid.UUID, body: GroupPatch, principal: Principal) -> Group:
    """PRV-5: the provider announces changed dates and whether the places are full."""
    group, unit = await _own_group(session, principal, group_id)
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    if all(getattr(group, k) == v for k, v in changes.items()):
        return group  # nothing changed: nothing announced
    for key, value in changes.items():
        setattr(group, key, value)
    await _check(session, unit, group)
    group.updated_at = now()
    await _announce(session, unit, group)
    await recompute_unit_queues(session, unit)
    await audit(session, principal, "group.update", "group", group.id, details={"fields": sorted(changes)})
    return group


async def set_enrolment(session: AsyncSession, group_id: uuid.UUID, body: EnrolmentIn, principal: Principal) -> Group:
    """PRV-6: an official records how many clients a group has (until agreement events drive it)."""
    group, unit = await _own_group(session, principal, group_id)
    if group.enrolled == body.enrolled:
        return group
    group.enrolled = body.enrolled
    await _check(session, unit, group)
    group.updated_at = now()
    await _announce(session, unit, group)
    await recompute_unit_queues(session, unit)
    await audit(session, principal, "group.enrolment", "group", group.id, details={"enrolled": body.enrolled})
    return group
