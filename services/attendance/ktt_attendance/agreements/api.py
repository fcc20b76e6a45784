"""Agreements as the attendance service knows them, and deviations recorded beforehand (AGR-14)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_attendance.access import visible_agreement
from ktt_attendance.agreements import service
from ktt_attendance.agreements.schemas import AgreementCopyOut, DeviationIn, DeviationOut
from ktt_attendance.policy import authorize

router = APIRouter(prefix="/v1", tags=["agreements"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})


@router.get("/agreements/{agreement_id}", response_model=AgreementCopyOut,
            summary="The agreement as this service knows it: dates, periods and schedules (a provider: its own)")
async def get_agreement(agreement_id: uuid.UUID, session: SessionDep,
                        principal: Principal = authorize("agreements.get_agreement")) -> AgreementCopyOut:
    copy = await visible_agreement(session, principal, agreement_id)
    await audit(session, principal, "agreement.read", "agreement", copy.agreement_id, client_ids=[copy.client_id])
    return AgreementCopyOut.model_validate(copy)


@router.post("/agreements/{agreement_id}/deviations", response_model=DeviationOut, status_code=status.HTTP_201_CREATED,
             summary="Record a pre-agreed deviation from the scheduled days, before the day (AGR-14)",
             responses={409: {"model": Problem}})
async def create_deviation(agreement_id: uuid.UUID, body: DeviationIn, session: SessionDep, response: Response,
                           principal: Principal = authorize("agreements.create_deviation")) -> DeviationOut:
    """AGR-14: group coaching, a job interview or another pre-agreed change on a day that is not
    (or differs from) a scheduled day. Refused on or after the day itself. The same deviation
    again answers 200 with the stored one."""
    deviation, created = await service.record_deviation(session, agreement_id, body, principal)
    if not created:
        response.status_code = status.HTTP_200_OK
    return DeviationOut.model_validate(deviation)


@router.get("/agreements/{agreement_id}/deviations", response_model=list[DeviationOut],
            summary="Deviations recorded for an agreement (AGR-14)")
async def list_deviations(agreement_id: uuid.UUID, session: SessionDep,
                          principal: Principal = authorize("agreements.list_deviations")) -> list[DeviationOut]:
    return [DeviationOut.model_validate(d) for d in await service.list_deviations(session, agreement_id, principal)]
