"""HTTP layer of TE-office start notices (DEC-6)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query, Request, Response

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem
from ktt_common.pagination import PageDep, announce_next

from ktt_decision.notices import service
from ktt_decision.notices.models import StartNotice
from ktt_decision.notices.schemas import StartNoticeDetailOut, StartNoticeOut
from ktt_decision.policy import authorize

router = APIRouter(prefix="/v1", tags=["decisions"], responses={**PROBLEM_RESPONSES})


@router.get("/start-notices", response_model=list[StartNoticeOut], tags=["start notices"],
            summary="Start notices for the TE office (DEC-6), without the hetu")
async def list_start_notices(session: SessionDep, page: PageDep, request: Request, response: Response,
                             status_: Literal["pending", "sent"] | None = Query(None, alias="status"),
                             principal: Principal = authorize("decision.list_start_notices")) -> list[StartNotice]:
    """One page, oldest start first; the next page in ``Link`` rel=next / ``X-Next-Cursor`` (issue 12 item 9)."""
    rows, cursor = await service.list_start_notices(session, status_, principal, page)
    announce_next(request, response, cursor)
    return rows



@router.get("/start-notices/{notice_id}", response_model=StartNoticeDetailOut, tags=["start notices"],
            summary="One start notice with the client's hetu for the TE office (the read is audited)",
            responses={404: {"model": Problem}})
async def get_start_notice(notice_id: uuid.UUID, session: SessionDep,
                           principal: Principal = authorize("decision.get_start_notice")) -> StartNoticeDetailOut:
    notice, hetu = await service.read_start_notice(session, notice_id, principal)
    return StartNoticeDetailOut.model_validate({**StartNoticeOut.model_validate(notice).model_dump(), "hetu": hetu})



@router.post("/start-notices/{notice_id}/mark-sent", response_model=StartNoticeOut, tags=["start notices"],
             summary="Mark a start notice sent to the TE office; marking again changes nothing",
             responses={404: {"model": Problem}})
async def mark_start_notice_sent(notice_id: uuid.UUID, session: SessionDep,
                                 principal: Principal = authorize("decision.mark_start_notice_sent")) -> StartNotice:
    return await service.mark_start_notice_sent(session, notice_id, principal)
