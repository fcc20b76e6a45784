"""HTTP layer of the decision service: parse, authorise, call the use case, shape the reply."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from ktt_common.auth import OFFICIALS, Principal, Role, require
from ktt_common.audit import audit
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_decision import service
from ktt_decision.models import Decision
from ktt_decision.schemas import DecisionIn, DecisionOut

router = APIRouter(prefix="/v1", tags=["decisions"], responses={**PROBLEM_RESPONSES})

pushers = require(Role.INTEGRATOR, Role.CITY_OFFICIAL)
readers = require(*OFFICIALS, Role.INTEGRATOR, Role.ADMIN)


@router.post(
    "/decisions", response_model=DecisionOut, status_code=status.HTTP_201_CREATED,
    summary="Push a decision (idempotent on source_system, source_id, version)",
    responses={200: {"model": DecisionOut, "description": "The same version again: the stored decision, nothing published"},
               409: {"model": Problem, "description": "A lower version, or the same version with other content"}},
)
async def push_decision(body: DecisionIn, session: SessionDep, response: Response, principal: Principal = pushers) -> Decision:
    result = await service.push_decision(session, body, principal)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/decisions/{result.decision.id}"
    return result.decision


@router.get("/decisions/{decision_id}", response_model=DecisionOut, summary="One decision",
            responses={404: {"model": Problem}})
async def get_decision(decision_id: uuid.UUID, session: SessionDep, principal: Principal = readers) -> Decision:
    return await service.get_decision(session, decision_id, principal)


@router.get("/decisions", response_model=list[DecisionOut], summary="Decisions of a client")
async def list_decisions(client_id: uuid.UUID, session: SessionDep, principal: Principal = readers) -> list[Decision]:
    rows = (await session.execute(
        select(Decision).where(Decision.client_id == client_id).order_by(Decision.created_at)
    )).scalars().all()
    await audit(session, principal, "decision.list", "client", client_id, client_ids=[client_id])
    return list(rows)


class LookupIn(BaseModel):
    hetu: str = Field(min_length=1, max_length=20, description="Personal identity code: in the body, never in a URL (DATA-4)")


class LookupOut(BaseModel):
    client_id: uuid.UUID


@router.post("/clients/lookup", response_model=LookupOut, summary="Find a client's pseudonymous id by hetu",
             responses={404: {"model": Problem}})
async def lookup_client(body: LookupIn, session: SessionDep, principal: Principal = readers) -> LookupOut:
    client = await service.lookup_client(session, body.hetu, principal)
    return LookupOut(client_id=client.id)
