"""Groups: announced start, end and places (PRV-5, PRV-6)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_registry.models import Group
from ktt_registry.policy import authorize
from ktt_registry.schemas_places import EnrolmentIn, GroupIn, GroupOut, GroupPatch
from ktt_registry.service import groups as svc

router = APIRouter(prefix="/v1", tags=["groups"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})



@router.post("/units/{unit_id}/groups", response_model=GroupOut, status_code=status.HTTP_201_CREATED,
             summary="Announce a group (PRV-5): 8-15 places, two responsible employees, instructors present (PRV-6)")
async def create_group(unit_id: uuid.UUID, body: GroupIn, session: SessionDep,
                       principal: Principal = authorize("groups.create_group")) -> Group:
    return await svc.create_group(session, unit_id, body, principal)


@router.patch("/groups/{group_id}", response_model=GroupOut, summary="Announce changed dates or full places (PRV-5)")
async def patch_group(group_id: uuid.UUID, body: GroupPatch, session: SessionDep,
                      principal: Principal = authorize("groups.patch_group")) -> Group:
    return await svc.patch_group(session, group_id, body, principal)


@router.put("/groups/{group_id}/enrolment", response_model=GroupOut,
            summary="Set how many clients a group has (city official, until agreements drive it; PRV-6)")
async def set_enrolment(group_id: uuid.UUID, body: EnrolmentIn, session: SessionDep,
                        principal: Principal = authorize("groups.set_enrolment")) -> Group:
    return await svc.set_enrolment(session, group_id, body, principal)
