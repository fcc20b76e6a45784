"""HTTP layer of the client's recorded refusals and interruptions (DEC-9)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_decision.flags import service
from ktt_decision.flags.models import ClientFlag
from ktt_decision.flags.schemas import ClientFlagOut
from ktt_decision.policy import authorize

router = APIRouter(prefix="/v1", tags=["decisions"], responses={**PROBLEM_RESPONSES})


@router.get("/clients/{client_id}/flags", response_model=list[ClientFlagOut], tags=["refusals and interruptions"],
            summary="The client's recorded refusals and interruptions, newest first (DEC-9; no sanction is computed)",
            responses={404: {"model": Problem}})
async def list_flags(client_id: uuid.UUID, session: SessionDep, principal: Principal = authorize("decision.list_flags")) -> list[ClientFlag]:
    return await service.list_flags(session, client_id, principal)
