"""HTTP layer of representatives (asiainhoitaja) the client authorised to act for them (VOU-9)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_decision.policy import authorize
from ktt_decision.representatives import service
from ktt_decision.representatives.models import Representative
from ktt_decision.representatives.schemas import RepresentativeIn, RepresentativeOut, RepresentativeWithdrawIn

router = APIRouter(prefix="/v1", tags=["decisions"], responses={**PROBLEM_RESPONSES})


def _representative_out(rep: Representative, request: Request) -> RepresentativeOut:
    """``active``: the representative acts for the client today (authorised, not expired, not withdrawn)."""
    out = RepresentativeOut.model_validate(rep)
    out.active = service.representative_is_active(rep, request.app.state.runtime.clock.today())
    return out



@router.post("/clients/{client_id}/representatives", response_model=RepresentativeOut,
             status_code=status.HTTP_201_CREATED, tags=["representatives"],
             summary="Record a representative (asiainhoitaja) the client authorised to act for them (VOU-9)",
             responses={200: {"model": RepresentativeOut, "description": "The same authorisation recorded already; "
                                                                         "nothing published"},
                        404: {"model": Problem},
                        409: {"model": Problem, "description": "The same person and day recorded with other details"}})
async def record_representative(client_id: uuid.UUID, body: RepresentativeIn, session: SessionDep, request: Request,
                                response: Response,
                                    principal: Principal = authorize("decision.record_representative")) -> RepresentativeOut:
    rep, created = await service.record_representative(session, client_id, body, principal)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _representative_out(rep, request)



@router.post("/clients/{client_id}/representatives/{representative_id}/withdraw", response_model=RepresentativeOut,
             tags=["representatives"],
             summary="The client withdraws a representative's authorisation (VOU-9); withdrawing again changes nothing",
             responses={404: {"model": Problem}})
async def withdraw_representative(client_id: uuid.UUID, representative_id: uuid.UUID, session: SessionDep,
                                  request: Request, body: RepresentativeWithdrawIn | None = None,
                                  principal: Principal = authorize("decision.withdraw_representative")) -> RepresentativeOut:
    rep = await service.withdraw_representative(session, client_id, representative_id,
                                                body.withdrawn_on if body else None, principal)
    return _representative_out(rep, request)



@router.get("/clients/{client_id}/representatives", response_model=list[RepresentativeOut], tags=["representatives"],
            summary="The client's representatives, newest authorisation first (VOU-9)", responses={404: {"model": Problem}})
async def list_representatives(client_id: uuid.UUID, session: SessionDep, request: Request,
                               principal: Principal = authorize("decision.list_representatives")) -> list[RepresentativeOut]:
    return [_representative_out(r, request) for r in await service.list_representatives(session, client_id, principal)]
