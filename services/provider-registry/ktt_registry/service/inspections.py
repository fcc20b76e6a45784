"""Premises inspections (PRV-17): before registration Typake inspects each unit's premises and gives
the regional state agency (AVI) a statement; the date and outcome are recorded. Append-only: the
latest inspection of a unit decides whether it may be approved."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.errors import Conflict, NotFound, refuse

from ktt_registry import rules_oversight as oversight
from ktt_registry.models import PremisesInspection
from ktt_registry.schemas import AviStatementIn, InspectionIn
from ktt_registry.service.common import now, own_unit, today


async def record(session: AsyncSession, unit_id: uuid.UUID, body: InspectionIn, principal: Principal) -> PremisesInspection:
    """PRV-17: a city official records an inspection of a unit's premises."""
    unit = await own_unit(session, principal, unit_id, for_update=True)
    refuse(oversight.check_inspection(body.inspected_on, body.outcome, body.remarks, body.avi_statement_on, today(session)))
    item = PremisesInspection(id=uuid.uuid4(), unit_id=unit.id, provider_id=unit.provider_id, inspected_on=body.inspected_on,
                              inspector=body.inspector, outcome=body.outcome, remarks=body.remarks,
                              avi_statement_on=body.avi_statement_on, recorded_by=principal.subject, created_at=now())
    session.add(item)
    await session.flush()
    await audit(session, principal, "unit.inspection", "unit", unit.id, details={"outcome": body.outcome, "id": str(item.id)})
    return item


async def set_avi_statement(session: AsyncSession, inspection_id: uuid.UUID, body: AviStatementIn,
                            principal: Principal) -> PremisesInspection:
    """PRV-17: the statement to AVI, given after the inspection; recorded once."""
    item = await session.get(PremisesInspection, inspection_id, with_for_update=True)
    if item is None:
        raise NotFound(f"no inspection {inspection_id}")
    if item.avi_statement_on == body.given_on:
        return item
    if item.avi_statement_on is not None:
        raise Conflict(f"the statement to AVI was recorded as given on {item.avi_statement_on}", rule="PRV-17")
    refuse(oversight.check_avi_statement(item.inspected_on, body.given_on, today(session)))
    item.avi_statement_on = body.given_on
    await audit(session, principal, "unit.avi_statement", "unit", item.unit_id, details={"id": str(item.id)})
    return item


async def list_inspections(session: AsyncSession, unit_id: uuid.UUID, principal: Principal) -> list[PremisesInspection]:
    unit = await own_unit(session, principal, unit_id)
    return list((await session.execute(
        select(PremisesInspection).where(PremisesInspection.unit_id == unit.id)
        .order_by(PremisesInspection.inspected_on, PremisesInspection.created_at)
    )).scalars().all())


async def latest_outcomes(session: AsyncSession, provider_id: str) -> dict[uuid.UUID, tuple[dt.date, str]]:
    """unit id -> (date, outcome) of the latest inspection of each of the provider's units."""
    rows = (await session.execute(
        select(PremisesInspection.unit_id, PremisesInspection.inspected_on, PremisesInspection.created_at, PremisesInspection.outcome)
        .where(PremisesInspection.provider_id == provider_id)
    )).all()
    by_unit: dict[uuid.UUID, list[tuple[dt.date, dt.datetime, str]]] = {}
    for unit_id, on, at, outcome in rows:
        by_unit.setdefault(unit_id, []).append((on, at, outcome))
    return {u: latest for u, found in by_unit.items() if (latest := oversight.latest_inspection(found)) is not None}
