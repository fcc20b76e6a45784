"""Social guidance and the staff report (PRV-16)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_registry.models import SocialGuidance
from ktt_registry.policy import authorize
from ktt_registry.schemas import SocialGuidanceIn, SocialGuidanceOut, StaffReportIn, StaffReportOut
from ktt_registry.service import staff as svc

router = APIRouter(prefix="/v1", tags=["staff"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})



@router.post("/providers/{provider_id}/social-guidance", response_model=SocialGuidanceOut, status_code=status.HTTP_201_CREATED,
             summary="Record who gives social guidance to a unit (or every unit): a qualified social-welfare professional (PRV-16)")
async def add_social_guidance(provider_id: str, body: SocialGuidanceIn, session: SessionDep,
                              principal: Principal = authorize("staff.add_social_guidance")) -> SocialGuidance:
    return await svc.add_social_guidance(session, provider_id, body, principal)


@router.get("/providers/{provider_id}/social-guidance", response_model=list[SocialGuidanceOut],
            summary="A provider's social guidance arrangements, current first (PRV-16)")
async def list_social_guidance(provider_id: str, session: SessionDep,
                               principal: Principal = authorize("staff.list_social_guidance")) -> list[SocialGuidance]:
    return await svc.list_social_guidance(session, provider_id, principal)


@router.post("/social-guidance/{guidance_id}/end", response_model=SocialGuidanceOut,
             summary="End an arrangement; refused while it would leave an approved provider's unit without one (PRV-16)")
async def end_social_guidance(guidance_id: uuid.UUID, session: SessionDep,
                              principal: Principal = authorize("staff.end_social_guidance")) -> SocialGuidance:
    return await svc.end_social_guidance(session, guidance_id, principal)


@router.put("/providers/{provider_id}/staff", response_model=StaffReportOut,
            summary="Give the city the staff data: names, roles, qualifications, never a personal identity code (PRV-16)")
async def report_staff(provider_id: str, body: StaffReportIn, session: SessionDep,
                       principal: Principal = authorize("staff.report_staff")) -> StaffReportOut:
    return await svc.report_staff(session, provider_id, body, principal)


@router.get("/providers/{provider_id}/staff", response_model=StaffReportOut, summary="The staff data last given to the city (PRV-16)")
async def staff_report(provider_id: str, session: SessionDep,
                       principal: Principal = authorize("staff.staff_report")) -> StaffReportOut:
    return await svc.staff_report(session, provider_id, principal)
