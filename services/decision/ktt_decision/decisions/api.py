"""HTTP layer of decisions: parse, authorise, call the use case, shape the reply."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_decision.decisions import service
from ktt_decision.decisions.models import Decision
from ktt_decision.decisions.reading import ReplayFirstRoute, probe_of
from ktt_decision.decisions.schemas import DecisionDetailOut, DecisionIn, RevokeIn
from ktt_decision.policy import authorize

router = APIRouter(prefix="/v1", tags=["decisions"], responses={**PROBLEM_RESPONSES})


async def push_decision(body: DecisionIn, session: SessionDep, request: Request, response: Response,
                        principal: Principal = authorize("decision.push_decision")) -> Decision:
    result = await service.push_decision(session, body, principal, probe=probe_of(request))
    if not result.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/decisions/{result.decision.id}"
    return result.decision


# A retry of the same request is answered before its body is parsed (ReplayFirstRoute, decisions/reading.py).
router.add_api_route(
    "/decisions", push_decision, methods=["POST"], route_class_override=ReplayFirstRoute,
    response_model=DecisionDetailOut, status_code=status.HTTP_201_CREATED,
    summary="Push a decision (idempotent on source_system, source_id, version; a higher version amends it)",
    responses={200: {"model": DecisionDetailOut, "description": "The same version again (nothing published), "
                                                                "or a higher version that amended the decision (DEC-7)"},
               409: {"model": Problem, "description": "A lower version, the same version with other content, "
                                                     "another person's hetu, or a revoked decision"}},
)


@router.post("/decisions/{decision_id}/revoke", response_model=DecisionDetailOut,
             summary="Revoke a decision (DEC-7); revoking again changes nothing", responses={404: {"model": Problem}})
async def revoke_decision(decision_id: uuid.UUID, body: RevokeIn, session: SessionDep,
                          principal: Principal = authorize("decision.revoke_decision")) -> Decision:
    return await service.revoke_decision(session, decision_id, body.reason, body.revoked_on, principal)


@router.get("/decisions/{decision_id}", response_model=DecisionDetailOut, summary="One decision",
            responses={404: {"model": Problem}})
async def get_decision(decision_id: uuid.UUID, session: SessionDep,
                       principal: Principal = authorize("decision.get_decision")) -> Decision:
    return await service.get_decision(session, decision_id, principal)


@router.get("/decisions", response_model=list[DecisionDetailOut], summary="Decisions of a client")
async def list_decisions(client_id: uuid.UUID, session: SessionDep,
                         principal: Principal = authorize("decision.list_decisions")) -> list[Decision]:
    return await service.list_decisions(session, client_id, principal)


# --- consent (DATA-1) -------------------------------------------------------------------------


# --- representatives (VOU-9) -------------------------------------------------------------------


# --- TE-office start notices (DEC-6) -----------------------------------------------------------


# --- refusals and interruptions (DEC-9) --------------------------------------------------------

