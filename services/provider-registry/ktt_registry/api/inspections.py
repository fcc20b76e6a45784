"""Premises inspections before registration and the statement to AVI (PRV-17)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_registry.models import PremisesInspection
from ktt_registry.policy import authorize
from ktt_registry.schemas import AviStatementIn, InspectionIn, InspectionOut
from ktt_registry.service import inspections as svc

router = APIRouter(prefix="/v1", tags=["inspections"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})



@router.post("/units/{unit_id}/inspections", response_model=InspectionOut, status_code=status.HTTP_201_CREATED,
             summary="Record Typake's inspection of a unit's premises: date, inspector, outcome, remarks (city official; PRV-17)")
async def record(unit_id: uuid.UUID, body: InspectionIn, session: SessionDep,
                 principal: Principal = authorize("inspections.record")) -> PremisesInspection:
    return await svc.record(session, unit_id, body, principal)


@router.get("/units/{unit_id}/inspections", response_model=list[InspectionOut], summary="A unit's inspections, oldest first (PRV-17)")
async def list_inspections(unit_id: uuid.UUID, session: SessionDep,
                           principal: Principal = authorize("inspections.list_inspections")) -> list[PremisesInspection]:
    return await svc.list_inspections(session, unit_id, principal)


@router.put("/inspections/{inspection_id}/avi-statement", response_model=InspectionOut,
            summary="Record when Typake's statement went to AVI (city official; PRV-17)", responses={409: {"model": Problem}})
async def set_avi_statement(inspection_id: uuid.UUID, body: AviStatementIn, session: SessionDep,
                            principal: Principal = authorize("inspections.set_avi_statement")) -> PremisesInspection:
    return await svc.set_avi_statement(session, inspection_id, body, principal)
