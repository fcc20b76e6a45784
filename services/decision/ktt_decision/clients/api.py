"""HTTP layer of clients: find a client's pseudonymous id by hetu (in the body, never in a URL: DATA-4)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_decision.clients import service
from ktt_decision.policy import authorize

router = APIRouter(prefix="/v1", tags=["decisions"], responses={**PROBLEM_RESPONSES})


class LookupIn(BaseModel):
    hetu: str = Field(min_length=1, max_length=20, description="Personal identity code: in the body, never in a URL (DATA-4)")



class LookupOut(BaseModel):
    client_id: uuid.UUID



@router.post("/clients/lookup", response_model=LookupOut, summary="Find a client's pseudonymous id by hetu",
             responses={404: {"model": Problem}})
async def lookup_client(body: LookupIn, session: SessionDep,
                        principal: Principal = authorize("decision.lookup_client")) -> LookupOut:
    client = await service.lookup_client(session, body.hetu, principal)
    return LookupOut(client_id=client.id)
