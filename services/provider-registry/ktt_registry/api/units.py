"""Units, their staff, places and availability (PRV-3, PRV-6, PRV-8, PRV-13)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_registry.models import Instructor
from ktt_registry.policy import authorize
from ktt_registry.schemas import AvailabilityIn, InstructorIn, InstructorOut, OccupancyIn, UnitIn, UnitOut, UnitPatch
from ktt_registry.service import units as svc
from ktt_registry.service.common import own_unit

router = APIRouter(prefix="/v1", tags=["units"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})



@router.post("/providers/{provider_id}/units", response_model=UnitOut, status_code=status.HTTP_201_CREATED,
             summary="Add a unit (PRV-3, PRV-13)", responses={409: {"model": Problem}})
async def create_unit(provider_id: str, body: UnitIn, session: SessionDep, response: Response,
                      principal: Principal = authorize("units.create_unit")) -> UnitOut:
    unit = await svc.create_unit(session, provider_id, body, principal)
    response.headers["Location"] = f"/v1/units/{unit.id}"
    return await svc.unit_view(session, unit)


@router.get("/providers/{provider_id}/units", response_model=list[UnitOut], summary="A provider's units")
async def list_units(provider_id: str, session: SessionDep,
                     principal: Principal = authorize("units.list_units")) -> list[UnitOut]:
    return [await svc.unit_view(session, u) for u in await svc.list_units(session, provider_id, principal)]


@router.get("/units/{unit_id}", response_model=UnitOut, summary="One unit with its places")
async def get_unit(unit_id: uuid.UUID, session: SessionDep, principal: Principal = authorize("units.get_unit")) -> UnitOut:
    return await svc.unit_view(session, await own_unit(session, principal, unit_id))


@router.patch("/units/{unit_id}", response_model=UnitOut, summary="Change a unit (PRV-3, PRV-13)")
async def patch_unit(unit_id: uuid.UUID, body: UnitPatch, session: SessionDep,
                     principal: Principal = authorize("units.patch_unit")) -> UnitOut:
    return await svc.unit_view(session, await svc.patch_unit(session, unit_id, body, principal))


@router.put("/units/{unit_id}/availability", response_model=UnitOut,
            summary="Mark the unit unable to take clients, with the reason, or able again (PRV-8)")
async def set_availability(unit_id: uuid.UUID, body: AvailabilityIn, session: SessionDep,
                           principal: Principal = authorize("units.set_availability")) -> UnitOut:
    return await svc.unit_view(session, await svc.set_availability(session, unit_id, body, principal))


@router.put("/units/{unit_id}/occupancy", response_model=UnitOut,
            summary="Set how many individual clients the unit has (city official, until agreements drive it; PRV-6)")
async def set_occupancy(unit_id: uuid.UUID, body: OccupancyIn, session: SessionDep,
                        principal: Principal = authorize("units.set_occupancy")) -> UnitOut:
    return await svc.unit_view(session, await svc.set_occupancy(session, unit_id, body, principal))


@router.post("/units/{unit_id}/instructors", response_model=InstructorOut, status_code=status.HTTP_201_CREATED,
             summary="Add an instructor with qualification and methods (PRV-13); adds 25 places (PRV-6)")
async def add_instructor(unit_id: uuid.UUID, body: InstructorIn, session: SessionDep,
                         principal: Principal = authorize("units.add_instructor")) -> Instructor:
    return await svc.add_instructor(session, unit_id, body, principal)


@router.get("/units/{unit_id}/instructors", response_model=list[InstructorOut], summary="A unit's active instructors")
async def list_instructors(unit_id: uuid.UUID, session: SessionDep,
                           principal: Principal = authorize("units.list_instructors")) -> list[Instructor]:
    return await svc.list_instructors(session, unit_id, principal)


@router.delete("/units/{unit_id}/instructors/{instructor_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="An instructor leaves; refused when the rest cannot cover the clients (PRV-6)")
async def remove_instructor(unit_id: uuid.UUID, instructor_id: uuid.UUID, session: SessionDep,
                            principal: Principal = authorize("units.remove_instructor")) -> Response:
    await svc.remove_instructor(session, unit_id, instructor_id, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
