"""HTTP layer of consents (DATA-1) and of the plan data a consent opens to a provider."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from ktt_common.auth import Principal, Role
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Forbidden, Problem

from ktt_decision.consents import service
from ktt_decision.consents.models import Consent
from ktt_decision.consents.schemas import ConsentCheckOut, ConsentIn, ConsentOut, ConsentScope, ConsentWithdrawIn
from ktt_decision.policy import authorize

router = APIRouter(prefix="/v1", tags=["decisions"], responses={**PROBLEM_RESPONSES})


def _consent_out(consent: Consent, request: Request) -> ConsentOut:
    """``active``: the consent holds today for its scope (given, not expired, not withdrawn)."""
    today = request.app.state.runtime.clock.today()
    out = ConsentOut.model_validate(consent)
    out.active = any(service.consent_is_active(consent, today, s) for s in consent.scope)
    return out



@router.post("/clients/{client_id}/consents", response_model=ConsentOut, status_code=status.HTTP_201_CREATED,
             tags=["consents"], summary="Record the client's written consent to share data with a provider (DATA-1)",
             responses={200: {"model": ConsentOut, "description": "The same consent recorded already; nothing published"},
                        404: {"model": Problem}})
async def record_consent(client_id: uuid.UUID, body: ConsentIn, session: SessionDep, request: Request, response: Response,
                         principal: Principal = authorize("decision.record_consent")) -> ConsentOut:
    consent, created = await service.record_consent(session, client_id, body, principal)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _consent_out(consent, request)



@router.post("/clients/{client_id}/consents/{consent_id}/withdraw", response_model=ConsentOut, tags=["consents"],
             summary="The client withdraws a consent (DATA-1); withdrawing again changes nothing",
             responses={404: {"model": Problem}})
async def withdraw_consent(client_id: uuid.UUID, consent_id: uuid.UUID, session: SessionDep, request: Request,
                           body: ConsentWithdrawIn | None = None,
                               principal: Principal = authorize("decision.withdraw_consent")) -> ConsentOut:
    consent = await service.withdraw_consent(session, client_id, consent_id, body.withdrawn_on if body else None, principal)
    return _consent_out(consent, request)



@router.get("/clients/{client_id}/consents", response_model=list[ConsentOut], tags=["consents"],
            summary="The client's consents, newest first", responses={404: {"model": Problem}})
async def list_consents(client_id: uuid.UUID, session: SessionDep, request: Request,
                        principal: Principal = authorize("decision.list_consents")) -> list[ConsentOut]:
    return [_consent_out(c, request) for c in await service.list_consents(session, client_id, principal)]



@router.get("/clients/{client_id}/consents/check", response_model=ConsentCheckOut, tags=["consents"],
            summary="May this provider see the client's data of this scope today? (DATA-1; a provider asks only about itself)")
async def check_consent(client_id: uuid.UUID, provider_id: str, session: SessionDep, scope: ConsentScope = "plan",
                        principal: Principal = authorize("decision.check_consent")) -> ConsentCheckOut:
    if principal.role is Role.PROVIDER and principal.provider_id != provider_id:
        raise Forbidden("a provider may check only its own consents (DATA-3)", rule="DATA-3")
    consent = await service.check_consent(session, client_id, provider_id, scope, principal)
    return ConsentCheckOut(client_id=client_id, provider_id=provider_id, scope=scope, allowed=consent is not None,
                           consent_id=consent.id if consent else None, valid_until=consent.valid_until if consent else None)



class PlanOut(BaseModel):
    decision_id: uuid.UUID
    plan: dict[str, Any] | None
    period_start: dt.date
    period_end: dt.date
    form: str
    voucher_kind: str



@router.get("/clients/{client_id}/plan", response_model=list[PlanOut], tags=["consents"],
            summary="The plan behind each active decision: officials, and a provider only with the client's consent (DATA-1)",
            responses={403: {"model": Problem, "description": "No recorded consent for this provider (DATA-1)"}})
async def get_plan(client_id: uuid.UUID, session: SessionDep,
                   principal: Principal = authorize("decision.get_plan")) -> list[PlanOut]:
    return [PlanOut(decision_id=d.id, plan=d.plan, period_start=d.period_start, period_end=d.period_end, form=d.form,
                    voucher_kind=d.voucher_kind) for d in await service.plan_data(session, client_id, principal)]
