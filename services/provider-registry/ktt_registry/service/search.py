"""Public search of approved providers (PRV-4, PRV-5, PRV-7): no login, approved providers only.

A city has tens of providers, so the approved ones are loaded with their units and products and
the filters applied here, each in one plain predicate; the approval filter is in the query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_registry import rules
from ktt_registry.models import Group, Instructor, Product, ProductValue, Provider, QueueEntry, Unit
from ktt_registry.schemas_search import SearchGroup, SearchHit, SearchProduct, SearchQueue, SearchUnit, SearchValue
from ktt_registry.service.common import taking_clients, today
from ktt_registry.service.products import current, form_of, value_out, versions_of
from ktt_registry.service.queues import new_entrant_wait


@dataclass(frozen=True)
class SearchFilters:
    language: str | None = None
    accessible: bool | None = None
    form: str | None = None
    theme: str | None = None
    has_free_places: bool | None = None
    postal_code: str | None = None
    district: str | None = None


def product_matches(p: Product, f: SearchFilters) -> bool:
    return (f.form is None or form_of(p.kind) == f.form) and (f.theme is None or f.theme in p.themes)


def unit_matches(u: Unit, f: SearchFilters) -> bool:
    return ((f.language is None or f.language.lower() in u.languages)
            and (f.accessible is None or u.step_free_access == f.accessible)
            and (f.postal_code is None or u.postal_code == f.postal_code)
            and (f.district is None or (u.district or "").casefold() == f.district.casefold()))


async def search(session: AsyncSession, f: SearchFilters) -> list[SearchHit]:
    day = today(session)
    providers = (await session.execute(select(Provider).where(Provider.status == "approved").order_by(Provider.name))).scalars().all()
    ids = [p.id for p in providers]
    if not ids:
        return []
    units = (await session.execute(select(Unit).where(Unit.provider_id.in_(ids)).order_by(Unit.name))).scalars().all()
    products = (await session.execute(
        select(Product).where(Product.provider_id.in_(ids), Product.active.is_(True)).order_by(Product.name)
    )).scalars().all()
    versions = await versions_of(session, [p.id for p in products])
    unit_ids = [u.id for u in units]
    instructors = dict((await session.execute(
        select(Instructor.unit_id, func.count()).where(Instructor.unit_id.in_(unit_ids), Instructor.active.is_(True))
        .group_by(Instructor.unit_id)
    )).all()) if unit_ids else {}
    groups = (await session.execute(
        select(Group).where(Group.unit_id.in_(unit_ids), Group.ends_on >= day).order_by(Group.starts_on)
    )).scalars().all() if unit_ids else []
    queued = {(u, p): n for u, p, n in (await session.execute(
        select(QueueEntry.unit_id, QueueEntry.product_id, func.count()).where(QueueEntry.active.is_(True))
        .group_by(QueueEntry.unit_id, QueueEntry.product_id)
    )).all()}

    hits: list[SearchHit] = []
    for provider in providers:
        offered = [p for p in products if p.provider_id == provider.id and product_matches(p, f)]
        if not offered:
            continue
        offered_ids = {p.id for p in offered}
        has_individual = any(form_of(p.kind) == "individual" for p in offered)
        found_units: list[SearchUnit] = []
        for unit in (u for u in units if u.provider_id == provider.id and unit_matches(u, f)):
            taking = taking_clients(unit)
            individual_free = rules.free_places(int(instructors.get(unit.id, 0)), unit.occupied, taking) if has_individual else 0
            unit_groups = [g for g in groups if g.unit_id == unit.id and g.product_id in offered_ids]
            shown_groups = [SearchGroup(id=g.id, product_id=g.product_id, name=g.name, starts_on=g.starts_on, ends_on=g.ends_on,
                                        free_places=max(0, g.places - g.enrolled) if not g.places_full else 0,
                                        places_full=g.places_full or g.enrolled >= g.places) for g in unit_groups]
            group_free = sum(g.free_places for g in shown_groups if g.starts_on >= day) if taking else 0
            if f.has_free_places is not None and (individual_free + group_free > 0) != f.has_free_places:
                continue
            queues = [SearchQueue(product_id=p.id, queued=int(queued.get((unit.id, p.id), 0)),
                                  expected_wait_days=await new_entrant_wait(session, unit, p)) for p in offered]
            found_units.append(SearchUnit(
                id=unit.id, name=unit.name, street_address=unit.street_address, postal_code=unit.postal_code, city=unit.city,
                district=unit.district, phone_hours=unit.phone_hours, responsible_person=(unit.responsible_person or {}).get("name", ""),
                step_free_access=unit.step_free_access, suits_partial_work_ability=unit.suits_partial_work_ability,
                foli_reachable=unit.foli_reachable, languages=list(unit.languages), warm_meal=bool((unit.meals or {}).get("warm_meal")),
                taking_clients=taking, free_places=individual_free + group_free, groups=shown_groups, queues=queues,
            ))
        if not found_units:
            continue
        hits.append(SearchHit(
            provider_id=provider.id, name=provider.name, presentation=provider.presentation, website=provider.website,
            contact=dict(provider.contact or {}), phone_hours=provider.phone_hours, units=found_units,
            products=[_product(p, versions[p.id], day) for p in offered],
        ))
    return hits


def _product(p: Product, vs: list[ProductValue], day: dt.date) -> SearchProduct:
    cur = current(vs, day)
    value = None
    if cur is not None:
        v = value_out(cur)
        value = SearchValue(effective_from=v.effective_from, day_value_first_year=v.day_value_first_year,
                            base_day_value=v.base_day_value, hour_value=v.hour_value)
    return SearchProduct(id=p.id, kind=p.kind, form=form_of(p.kind), name=p.name, description=p.description,
                         tasks=list(p.tasks), themes=list(p.themes), current_value=value)



