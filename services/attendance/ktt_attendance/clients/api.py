"""Clients: the benefit payer (ATT-6) and the allowance basis per month (DEC-5), for officials."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES

from ktt_attendance.clients import service
from ktt_attendance.notices.schemas import AllowanceOut, BenefitPayerIn, BenefitPayerOut
from ktt_attendance.policy import authorize

router = APIRouter(prefix="/v1", tags=["clients"], responses={**PROBLEM_RESPONSES})


@router.put("/clients/{client_id}/benefit-payer", response_model=BenefitPayerOut,
            summary="Who pays the client's benefit: Kela or an unemployment fund (gets the TT3, ATT-6)")
async def set_benefit_payer(client_id: uuid.UUID, body: BenefitPayerIn, session: SessionDep,
                            principal: Principal = authorize("clients.set_benefit_payer")) -> BenefitPayerOut:
    return await service.set_payer(session, principal, client_id, body)


@router.get("/allowances", response_model=list[AllowanceOut],
            summary="Allowance basis per client for a month: attended days x the day rate (DEC-5)")
async def list_allowances(session: SessionDep, principal: Principal = authorize("clients.list_allowances"),
                          month: str = Query(max_length=7, description="YYYY-MM"),
                          client_id: uuid.UUID | None = None) -> list[AllowanceOut]:
    return await service.allowances(session, principal, month, client_id)
