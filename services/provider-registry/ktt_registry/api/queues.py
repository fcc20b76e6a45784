"""Queues per unit and product (PRV-7)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_registry.policy import authorize
from ktt_registry.schemas_places import QueueEntryOut, QueueJoinIn, QueueLeaveIn
from ktt_registry.service import queues as svc

router = APIRouter(prefix="/v1", tags=["queues"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})



@router.post("/units/{unit_id}/queues/{product_id}", response_model=QueueEntryOut, status_code=status.HTTP_201_CREATED,
             summary="Put a client in the queue (refused when the estimated wait is over a month; PRV-7)",
             responses={409: {"model": Problem, "description": "The client is already queued"}})
async def join_queue(unit_id: uuid.UUID, product_id: uuid.UUID, body: QueueJoinIn, session: SessionDep,
                     principal: Principal = authorize("queues.join_queue")) -> QueueEntryOut:
    entry = await svc.join_queue(session, unit_id, product_id, body.client_id, principal)
    queue = await svc.list_queue(session, unit_id, product_id, principal)
    return next(e for e in queue if e.id == entry.id)


@router.get("/units/{unit_id}/queues/{product_id}", response_model=list[QueueEntryOut],
            summary="The queue in order, with every client's expected start (PRV-7)")
async def list_queue(unit_id: uuid.UUID, product_id: uuid.UUID, session: SessionDep,
                     principal: Principal = authorize("queues.list_queue")) -> list[QueueEntryOut]:
    return await svc.list_queue(session, unit_id, product_id, principal)


@router.post("/queue-entries/{entry_id}/leave", response_model=QueueEntryOut,
             summary="The client leaves the queue: started, withdrew or went elsewhere (PRV-7)")
async def leave_queue(entry_id: uuid.UUID, body: QueueLeaveIn, session: SessionDep,
                      principal: Principal = authorize("queues.leave_queue")) -> QueueEntryOut:
    return svc.entry_out(await svc.leave_queue(session, entry_id, body.outcome, principal), None)
