"""Use cases of units and their staff: premises, meals, languages, instructors and places."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.errors import Conflict, FieldError, NotFound, refuse

from ktt_registry import rules
from ktt_registry.models import Instructor, Unit
from ktt_registry.schemas import AvailabilityIn, InstructorIn, OccupancyIn, UnitIn, UnitOut, UnitPatch
from ktt_registry.service.common import (
    emit_capacity_changed,
    emit_unit_changed,
    instructor_count,
    now,
    own_provider,
    own_unit,
    taking_clients,
    today,
)
from ktt_registry.service.queues import recompute_unit_queues


def _unit_facts(premises: dict[str, Any], meals: dict[str, Any], foli: bool, languages: list[str]) -> rules.UnitFacts:
    return rules.UnitFacts(
        foli_reachable=foli, languages=languages, rescue_check_on=premises.get("rescue_check_on"),
        health_check_on=premises.get("health_check_on"), handles_food=bool(premises.get("handles_food")),
        food_check_on=premises.get("food_check_on"), snack=bool(meals.get("snack")), food_heating=bool(meals.get("food_heating")),
    )


def _languages(languages: list[str]) -> tuple[list[str], list[FieldError]]:
    cleaned = sorted({lang.strip().lower() for lang in languages})
    bad = [lang for lang in cleaned if len(lang) != 2 or not lang.isalpha()]
    if bad:
        return cleaned, [FieldError(field="body.languages", message=f"use ISO 639-1 codes such as fi, sv, en; not {', '.join(bad)}")]
    return cleaned, []


async def unit_view(session: AsyncSession, unit: Unit) -> UnitOut:
    n = await instructor_count(session, unit.id)
    out = UnitOut.model_validate(unit)
    out.instructors, out.capacity = n, rules.capacity(n)
    out.free_places = rules.free_places(n, unit.occupied, taking_clients(unit))
    return out


async def create_unit(session: AsyncSession, provider_id: str, body: UnitIn, principal: Principal) -> Unit:
    """PRV-3, PRV-13: a unit states its responsible person, address, accessibility, languages,
    premises checks and meals; everything missing is listed at once."""
    provider = await own_provider(session, principal, provider_id)
    languages, errors = _languages(body.languages)
    premises, meals = body.premises.model_dump(), body.meals.model_dump()
    errors += rules.check_unit(_unit_facts(premises, meals, body.foli_reachable, languages))
    refuse(errors)
    t = now()
    unit = Unit(
        id=uuid.uuid4(), provider_id=provider.id, name=body.name, street_address=body.street_address,
        postal_code=body.postal_code, city=body.city, district=body.district, service_producer_code=body.service_producer_code,
        responsible_person=body.responsible_person.model_dump(), foli_reachable=body.foli_reachable,
        step_free_access=body.step_free_access, suits_partial_work_ability=body.suits_partial_work_ability,
        languages=languages, phone_hours=body.phone_hours, premises=body.premises.model_dump(mode="json"), meals=meals,
        occupied=0, created_at=t, updated_at=t,
    )
    try:
        async with session.begin_nested():
            session.add(unit)
    except IntegrityError:
        raise Conflict(f"service-producer code {body.service_producer_code} is already used by another unit") from None
    await emit_unit_changed(session, unit)
    await emit_capacity_changed(session, unit)  # PRV-6: every unit's places are known from its start (none yet)
    await audit(session, principal, "unit.create", "unit", unit.id)
    return unit


async def patch_unit(session: AsyncSession, unit_id: uuid.UUID, body: UnitPatch, principal: Principal) -> Unit:
    unit = await own_unit(session, principal, unit_id, for_update=True)
    changes = body.model_dump(exclude_unset=True, mode="json")
    for key in ("name", "responsible_person", "foli_reachable", "step_free_access", "suits_partial_work_ability",
                "languages", "premises", "meals"):
        if key in changes and changes[key] is None:
            refuse([FieldError(field=f"body.{key}", rule="PRV-3", message=f"{key} cannot be removed")])
    errors: list[FieldError] = []
    if "languages" in changes:
        changes["languages"], errors = _languages(changes["languages"])
    for key, value in changes.items():
        setattr(unit, key, value)
    premises = {k: (dt.date.fromisoformat(v) if k.endswith("_on") and v else v) for k, v in unit.premises.items()}
    errors += rules.check_unit(_unit_facts(premises, unit.meals, unit.foli_reachable, list(unit.languages)))
    refuse(errors)
    unit.updated_at = now()
    await emit_unit_changed(session, unit)
    await audit(session, principal, "unit.update", "unit", unit.id, details={"fields": sorted(changes)})
    return unit


async def add_instructor(session: AsyncSession, unit_id: uuid.UUID, body: InstructorIn, principal: Principal) -> Instructor:
    """PRV-13: staff with qualifications and methods. PRV-6: each instructor adds 25 places."""
    unit = await own_unit(session, principal, unit_id, for_update=True)
    instructor = Instructor(id=uuid.uuid4(), unit_id=unit.id, name=body.name, qualification=body.qualification,
                            methods=sorted(set(body.methods)), phone=body.phone, email=body.email, active=True, created_at=now())
    session.add(instructor)
    await session.flush()
    await emit_capacity_changed(session, unit)
    await recompute_unit_queues(session, unit)
    await audit(session, principal, "instructor.add", "unit", unit.id, details={"instructor_id": str(instructor.id)})
    return instructor


async def remove_instructor(session: AsyncSession, unit_id: uuid.UUID, instructor_id: uuid.UUID, principal: Principal) -> None:
    """PRV-6: an instructor leaves only if the remaining ones still cover the clients (25 each)."""
    unit = await own_unit(session, principal, unit_id, for_update=True)
    instructor = await session.get(Instructor, instructor_id)
    if instructor is None or instructor.unit_id != unit.id or not instructor.active:
        raise NotFound(f"no active instructor {instructor_id} at unit {unit_id}")
    remaining = await instructor_count(session, unit.id) - 1
    refuse(rules.check_occupancy(unit.occupied, remaining, field="path.instructor_id"))
    instructor.active = False
    await session.flush()
    await emit_capacity_changed(session, unit)
    await recompute_unit_queues(session, unit)
    await audit(session, principal, "instructor.remove", "unit", unit.id, details={"instructor_id": str(instructor.id)})


async def list_instructors(session: AsyncSession, unit_id: uuid.UUID, principal: Principal) -> list[Instructor]:
    unit = await own_unit(session, principal, unit_id)
    return list((await session.execute(
        select(Instructor).where(Instructor.unit_id == unit.id, Instructor.active.is_(True)).order_by(Instructor.created_at)
    )).scalars().all())


async def set_occupancy(session: AsyncSession, unit_id: uuid.UUID, body: OccupancyIn, principal: Principal) -> Unit:
    """PRV-6: an official records how many individual clients the unit has (until agreement events
    drive it); 25 per instructor at most."""
    unit = await own_unit(session, principal, unit_id, for_update=True)
    refuse(rules.check_occupancy(body.occupied, await instructor_count(session, unit.id)))
    if unit.occupied == body.occupied:
        return unit
    unit.occupied = body.occupied
    unit.updated_at = now()
    await emit_capacity_changed(session, unit)
    await recompute_unit_queues(session, unit)
    await audit(session, principal, "unit.occupancy", "unit", unit.id, details={"occupied": body.occupied})
    return unit


async def set_availability(session: AsyncSession, unit_id: uuid.UUID, body: AvailabilityIn, principal: Principal) -> Unit:
    """PRV-8: a unit that cannot take clients for another reason tells the city at once (published)."""
    unit = await own_unit(session, principal, unit_id, for_update=True)
    if not body.taking_clients and not body.reason:
        refuse([FieldError(field="body.reason", rule="PRV-8", message="say why the unit cannot take clients")])
    if body.taking_clients == taking_clients(unit) and (body.taking_clients or body.reason == unit.unable_reason):
        return unit  # nothing changes: nothing published
    unit.unable_reason = None if body.taking_clients else body.reason
    unit.unable_since = None if body.taking_clients else today(session)
    unit.updated_at = now()
    await emit_unit_changed(session, unit)
    await emit_capacity_changed(session, unit)
    await recompute_unit_queues(session, unit)
    await audit(session, principal, "unit.availability", "unit", unit.id, details={"taking_clients": body.taking_clients})
    return unit


async def list_units(session: AsyncSession, provider_id: str, principal: Principal) -> list[Unit]:
    await own_provider(session, principal, provider_id)
    return list((await session.execute(select(Unit).where(Unit.provider_id == provider_id).order_by(Unit.name))).scalars().all())
