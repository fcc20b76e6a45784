"""Subcontractors (PRV-9)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_registry.models import Subcontractor
from ktt_registry.policy import authorize
from ktt_registry.schemas_quality import ForbidIn, SubcontractorIn, SubcontractorOut
from ktt_registry.service import subcontractors as svc

router = APIRouter(prefix="/v1", tags=["subcontractors"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})



@router.post("/providers/{provider_id}/subcontractors", response_model=SubcontractorOut, status_code=status.HTTP_201_CREATED,
             summary="Declare a subcontractor (the provider; no chaining, PRV-9)", responses={409: {"model": Problem}})
async def declare(provider_id: str, body: SubcontractorIn, session: SessionDep,
                  principal: Principal = authorize("subcontractors.declare")) -> Subcontractor:
    return await svc.declare(session, provider_id, body, principal)


@router.get("/providers/{provider_id}/subcontractors", response_model=list[SubcontractorOut], summary="A provider's subcontractors")
async def list_subcontractors(provider_id: str, session: SessionDep,
                              principal: Principal = authorize("subcontractors.list_subcontractors")) -> list[Subcontractor]:
    return await svc.list_subcontractors(session, provider_id, principal)


@router.post("/subcontractors/{subcontractor_id}/forbid", response_model=SubcontractorOut,
             summary="Forbid a subcontractor, with the reason (city official; PRV-9)")
async def forbid(subcontractor_id: uuid.UUID, body: ForbidIn, session: SessionDep,
                 principal: Principal = authorize("subcontractors.forbid")) -> Subcontractor:
    return await svc.forbid(session, subcontractor_id, body, principal)
